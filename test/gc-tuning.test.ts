// optimizeGcForTraining checks its argument. Its effect (fewer full garbage collections per
// training step) depends on V8's timing heuristics and is measured, not asserted: docs/training.md.
import { describe, expect, it } from 'vitest';
import { optimizeGcForTraining } from '../src/index.js';

describe('optimizeGcForTraining', () => {
  it('takes an optional boolean', () => {
    expect(() => optimizeGcForTraining('yes' as unknown as boolean)).toThrow(new TypeError('Expected boolean for enabled but received yes of type string'));
    expect(() => optimizeGcForTraining(false)).not.toThrow();
  });
});
