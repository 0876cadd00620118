import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../charts/chart-meta.js';
import { commandLineCheckpoints } from './command-checkpoints.js';

const of = (line: string): string[] => commandLineCheckpoints(splitCommandLine(line));

describe('commandLineCheckpoints(words) names the checkpoints a recorded command line reads, in its order', () => {
  it('barrier: A B and the checkpoint lists, never the values of --csv, --chart or --path', () => {
    expect(of('modeconn barrier linear a.safetensors b.safetensors --csv rows.safetensors --chart charts.safetensors --points 3')).toEqual(['a.safetensors', 'b.safetensors']);
    expect(of('modeconn barrier linear --path bezier.safetensors a.safetensors --json')).toEqual(['a.safetensors']);
    expect(of('modeconn barrier layerwise a b --checkpoints-a a1,a2 --checkpoints-b=b1,b2 --layers conv1')).toEqual(['a', 'b', 'a1', 'a2', 'b1', 'b2']);
    expect(of('modeconn barrier subspace a b --checkpoints "c 1, c2" --samples 2')).toEqual(['a', 'b', 'c 1', 'c2']);
    // A negative --range value is the option's, not a positional.
    expect(of('modeconn barrier linear a b --range -0.5:1.5 --points 41')).toEqual(['a', 'b']);
  });

  it('path: the endpoints or the LLPF start and target, not --out', () => {
    expect(of('modeconn path curve a.safetensors b.safetensors --out bezier.safetensors --epochs 2')).toEqual(['a.safetensors', 'b.safetensors']);
    expect(of('npx modeconn --backend wasm path llpf a --to mean:c1,c2 --out runs/llpf --no-resume')).toEqual(['a', 'c1', 'c2']);
    expect(of('modeconn path llpf a --to model:b --out runs/llpf')).toEqual(['a', 'b']);
    expect(of('modeconn path llpf a --to origin --out runs/llpf')).toEqual(['a']);
    expect(of('modeconn path llpf a --to nonsense:x --out runs/llpf')).toEqual(['a']);
  });

  it('surface and compare: their positionals; global options anywhere; lines without a known command give none', () => {
    expect(of('node bin/modeconn.js surface --path curve.safetensors a.safetensors --grid 5 --quiet')).toEqual(['a.safetensors']);
    expect(of('modeconn surface a --random 2 --range -1:1 --threads 2 --csv s.csv')).toEqual(['a']);
    expect(of('modeconn --architecture-module my-arch.ts compare a b --split both --csv c.csv')).toEqual(['a', 'b']);
    expect(of('modeconn train --out runs/x.safetensors --seeds 1')).toEqual([]);
    expect(of('python train.py a.safetensors')).toEqual([]);
  });
});
