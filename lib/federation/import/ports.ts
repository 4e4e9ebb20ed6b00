import { generatedPortName } from '../discovery/public-services';
import type { PublicService } from '../wire/documents';
import { protocolFromPortName, type Protocol } from '../wire/protocol';
import type { MergedPort } from './service-entries';

export type ConflictReason = 'PortCollision' | 'PortNameCollision' | 'DuplicatePort';

/** A port of a federation that is not imported because it clashes with one already merged. */
export interface ImportConflict {
  /** The federation whose port was not merged. */
  federation: string;
  hostname: string;
  port: number;
  reason: ConflictReason;
  message: string;
}

function portNamed(ports: ReadonlyMap<number, MergedPort>, name: string): MergedPort | undefined {
  for (const port of ports.values()) if (port.name === name) return port;
  return undefined;
}

/**
 * Merges one service's ports into its host's ports (number -> port); true when at least one
 * port was accepted. A port number may carry one name and protocol per host, and a name one
 * number: the first merged wins, the others are conflicts.
 */
export function mergeServicePorts(
  federation: string,
  service: PublicService,
  ports: Map<number, MergedPort>,
  conflicts: ImportConflict[],
): boolean {
  const { hostname } = service;
  const conflict = (port: number, reason: ConflictReason, message: string) =>
    conflicts.push({ federation, hostname, port, reason, message });
  const seen = new Set<number>();
  let namedHere: Set<string> | undefined; // only needed for unnamed ports
  let accepted = false;
  for (const p of service.ports) {
    if (seen.has(p.port)) {
      conflict(p.port, 'DuplicatePort', `port ${p.port} is listed twice by ${federation}; the first is used`);
      continue;
    }
    seen.add(p.port);
    const protocol: Protocol = p.protocol ?? protocolFromPortName(p.name);
    let name = p.name;
    if (!name) {
      namedHere ??= new Set(service.ports.map((q) => q.name).filter((n) => n !== ''));
      name = generatedPortName(protocol, p.port, namedHere);
      namedHere.add(name);
    }
    const existing = ports.get(p.port);
    if (existing) {
      if (existing.name !== name || existing.protocol !== protocol) {
        conflict(
          p.port,
          'PortCollision',
          `port ${p.port} is ${name}/${protocol} here but ${existing.name}/${existing.protocol} from ${existing.federations[0]}`,
        );
        continue;
      }
    } else {
      const owner = portNamed(ports, name);
      if (owner) {
        conflict(p.port, 'PortNameCollision', `port name ${name} already names port ${owner.number}`);
        continue;
      }
    }
    if (!existing) ports.set(p.port, { number: p.port, name, protocol, federations: [federation] });
    else if (!existing.federations.includes(federation)) existing.federations.push(federation);
    accepted = true;
  }
  return accepted;
}
