// examples/distributed: weights cross between rnnkit and PyTorch DDP exactly. Without torch, the
// files of one reduced run (test/fixtures/onnx/ddp) are checked: rnnkit loads PyTorch's DDP result
// and predicts what PyTorch predicted. Where /usr/bin/python3 has torch, the example itself runs
// (2 DDP processes, gloo, localhost) at a reduced size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forecast, noGrad, readSafetensors } from '../src/index.js';
import { relativeError, RELATIVE_TOLERANCE } from './helpers/onnx.js';

const FIXTURE = new URL('./fixtures/onnx/ddp/', import.meta.url).pathname;
const file = (name: string): string => path.join(FIXTURE, name);
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed'], { stdio: 'ignore' }).status === 0;

describe('weights across rnnkit and PyTorch DDP (committed run)', () => {
  const { tensors: weights, metadata } = readSafetensors(file('weights.safetensors'));
  const config = JSON.parse(metadata!.config) as forecast.ForecasterOptions;
  const probe = readSafetensors(file('probe.safetensors')).tensors;

  it('rnnkit\'s weights reproduce the predictions rnnkit handed to PyTorch', () => {
    const model = new forecast.Forecaster(config);
    model.loadStateDict(weights);
    model.eval();
    const predicted = noGrad(() => model.forward(probe.inputs)).data;
    expect(relativeError(predicted, probe.rnnkit.data)).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  });

  it('PyTorch\'s DDP weights load into the Forecaster (strict) and give PyTorch\'s predictions', () => {
    const ddp = readSafetensors(file('ddp.safetensors'));
    expect(ddp.metadata).toEqual({ trainer: 'torch 1.13.0a0 DDP x2' });
    const model = new forecast.Forecaster(config);
    model.loadStateDict(ddp.tensors);
    model.eval();
    expect(Object.keys(model.stateDict()).sort()).toEqual(Object.keys(ddp.tensors).sort());
    const changed = Object.keys(weights).filter((name) => !weights[name].data.every((v, i) => v === ddp.tensors[name].data[i]));
    expect(changed.length, 'DDP training changed every tensor').toBe(Object.keys(weights).length);
    const predicted = noGrad(() => model.forward(probe.inputs)).data;
    expect(relativeError(predicted, readSafetensors(file('ddp_probe.safetensors')).tensors.torch.data)).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  });
});

describe.skipIf(!hasTorch)('examples/distributed with PyTorch DDP (needs torch in /usr/bin/python3)', () => {
  it('trains in rnnkit, runs 2 gloo processes, brings the weights back bit for bit and exports ONNX', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'rnnkit-ddp-'));
    try {
      const run = spawnSync(process.execPath, [
        new URL('../examples/distributed/main.js', import.meta.url).pathname,
        '--years', '1', '--epochs', '1', '--ddp-epochs', '1', '--hidden', '8', '--window', '14', '--horizon', '14', '--out', out,
      ], { encoding: 'utf8', timeout: 240_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/rank 0: PyTorch on rnnkit's weights predicts the probe batch as rnnkit did/);
      expect(run.stdout).toMatch(/DDP epoch 1: loss [\d.]+ over 338 windows on 2 processes/);
      expect(run.stdout).toMatch(/rank 0: all 2 replicas hold identical weights/);
      expect(run.stdout).toMatch(/rnnkit holds PyTorch's DDP weights bit for bit and predicts the probe batch as PyTorch did/);
      expect(run.stdout).toMatch(/forecaster\.onnx: ONNX Runtime predicts the probe batch as rnnkit does/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
