// Start of several hook executables, interleaved run by run so that load hits them alike:
// wall and CPU (user+sys) median of `hook config`. A figure, not a test.
//   npx bun tools/bench/hook-start-compare.ts BINARY... RUNS
const bins = process.argv.slice(2, -1);
const runs = Number(process.argv.at(-1));
const wall: number[][] = bins.map(() => []);
const cpu: number[][] = bins.map(() => []);
for (let i = 0; i < runs + 5; i++) {
  bins.forEach((bin, b) => {
    const s = performance.now();
    const p = Bun.spawnSync([bin, 'hook', 'config'], { env: { PATH: '/usr/bin:/bin' }, stdout: 'ignore' });
    const e = performance.now() - s;
    if (p.exitCode !== 0) throw new Error(bin);
    const ru = p.resourceUsage!;
    if (i >= 5) {
      wall[b]!.push(e);
      cpu[b]!.push(Number(ru.cpuTime.user + ru.cpuTime.system) / 1000);
    }
  });
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(1);
bins.forEach((bin, b) =>
  console.log(`${bin}: wall median ${med(wall[b]!)} ms, cpu median ${med(cpu[b]!)} ms (${runs} runs)`),
);
