import { Session } from 'node:inspector/promises';
import path from 'node:path';

/**
 * CPU time of this process while `work` runs, by owner: each sample is charged to the deepest
 * frame of the stack that belongs to a package (node_modules/<package>) or to a file of the
 * project, so that, e.g., the RSA verification jose asks of node:crypto counts as jose's.
 * Samples with nothing but Node's internals on the stack count as "node (internals)"; waiting
 * (idle) is not CPU and is left out.
 */
export interface CpuProfile {
  /** CPU milliseconds by owner. */
  byOwner: Record<string, number>;
  cpuMs: number;
  wallMs: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

const ROOT = path.resolve(__dirname, '..', '..');

function ownerOf(url: string, functionName: string): string | null {
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    return null;
  }
  if (url.startsWith('node:')) return null;
  const file = url.replace(/^file:\/\//, '');
  const parts = file.split('node_modules/');
  if (parts.length > 1) {
    const tail = (parts[parts.length - 1] ?? '').split('/');
    return tail[0]?.startsWith('@') ? `${tail[0]}/${tail[1] ?? ''}` : (tail[0] ?? file);
  }
  const relative = path.relative(ROOT, file);
  return relative.startsWith('..') ? file : relative;
}

export async function profileCpu(work: () => Promise<void>): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const started = performance.now();
    await work();
    const wallMs = performance.now() - started;
    const { profile } = (await session.post('Profiler.stop')) as {
      profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
    };
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes)
      for (const child of node.children ?? []) parent.set(child, node.id);
    const ownerCache = new Map<number, string>();
    const ownerOfNode = (id: number): string => {
      const cached = ownerCache.get(id);
      if (cached !== undefined) return cached;
      let current: number | undefined = id;
      let owner = 'node (internals)';
      while (current !== undefined) {
        const node = nodes.get(current);
        const found = node ? ownerOf(node.callFrame.url, node.callFrame.functionName) : null;
        if (found !== null) {
          owner = found;
          break;
        }
        current = parent.get(current);
      }
      ownerCache.set(id, owner);
      return owner;
    };
    const byOwner: Record<string, number> = {};
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    samples.forEach((id, i) => {
      // timeDeltas[i+1] is the time until the next sample: the time this sample stands for.
      const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
      const owner = ownerOfNode(id);
      byOwner[owner] = (byOwner[owner] ?? 0) + ms;
    });
    delete byOwner['(idle)'];
    const cpuMs = Object.values(byOwner).reduce((a, b) => a + b, 0);
    return { byOwner, cpuMs, wallMs };
  } finally {
    await session.post('Profiler.disable').catch(() => undefined);
    session.disconnect();
  }
}
