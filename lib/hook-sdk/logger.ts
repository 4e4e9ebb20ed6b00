export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

/**
 * JSON-lines logger: addon-operator logs a stdout line that is a JSON object as a
 * structured record (`level`, `msg`, other keys as fields).
 */
export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly fields: LogFields = {},
  ) {}

  with(fields: LogFields): Logger {
    return new Logger(this.sink, { ...this.fields, ...fields });
  }

  debug(msg: string, fields: LogFields = {}): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields: LogFields = {}): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields: LogFields = {}): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields: LogFields = {}): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: LogFields): void {
    this.sink(JSON.stringify({ level, msg, time: new Date().toISOString(), ...this.fields, ...fields }));
  }
}
