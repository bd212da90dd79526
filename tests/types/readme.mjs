// The package README's named code blocks (```lang name ... ```), as
// { name: code }: what tests/types compiles and tests/consumers/quickstart runs.
import { readFileSync } from 'node:fs';

export function readmeBlocks(file = new URL('../../README.npm.md', import.meta.url)) {
  const blocks = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/^```(\w+) ([\w.-]+)\n([\s\S]*?)^```$/gm)) blocks[m[2]] = m[3];
  return blocks;
}
