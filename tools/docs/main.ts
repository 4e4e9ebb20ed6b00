// `npm run docs`: rewrites the generated schema reference blocks in docs/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from './generate';

for (const [path, content] of generatedDocs(join(import.meta.dir, '..', '..'))) {
  writeFileSync(path, content);
  process.stderr.write(`[docs] ${path}\n`);
}
