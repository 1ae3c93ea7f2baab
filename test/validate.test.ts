// The shared argument helpers (src/validate.ts, expectTensor in src/tensor/tensor.ts), tested once
// here: every public function words its errors through them.
import { describe, expect, it } from 'vitest';
import { expectTensor, Tensor } from '../src/tensor/tensor.js';
import { checkKnownKeys, checkOptions, choice, describe as describeValue, optionalChoice } from '../src/validate.js';

describe('describe', () => {
  it('names what was received', () => {
    expect([undefined, null, 1.5, 'x', true, 2n].map(describeValue))
      .toEqual(['undefined', 'null', '1.5 of type number', 'x of type string', 'true of type boolean', '2 of type bigint']);
    expect(describeValue([1, 2])).toBe('an Array of length 2');
    expect(describeValue(new Float32Array(4))).toBe('a Float32Array of length 4');
    expect(describeValue(new Int32Array(1))).toBe('an Int32Array of length 1');
    expect(describeValue(new Uint8Array(1))).toBe('a Uint8Array of length 1');
    expect(describeValue(() => 0)).toBe('a function');
    expect(describeValue(Symbol('s'))).toBe('a value of type symbol');
    expect(describeValue({})).toBe('an object');
  });
});

describe('checkOptions / checkKnownKeys: a misspelt option is an error', () => {
  it('returns the options, {} for undefined or null', () => {
    const options = { bias: false };
    expect(checkOptions(options, 'Linear', ['bias'])).toBe(options);
    expect(checkOptions(undefined, 'Linear', ['bias'])).toEqual({});
    expect(checkOptions(null, 'Linear', ['bias'])).toEqual({});
  });

  it('names the owner, the known keys and the unknown one', () => {
    expect(() => checkOptions({ bais: true }, 'RNNCell', ['bias', 'nonlinearity']))
      .toThrow(new TypeError('Expected one of bias, nonlinearity for RNNCell option but received bais of type string'));
    expect(() => checkKnownKeys({ batch_first: true }, 'DataLoader', ['batchSize']))
      .toThrow(new TypeError('Expected one of batchSize for DataLoader option but received batch_first of type string'));
  });

  it('refuses options that are not an object, under the given name', () => {
    expect(() => checkOptions(3, 'Linear', ['bias'])).toThrow(new TypeError('Expected object for options but received 3 of type number'));
    expect(() => checkOptions('x', 'tbptt', ['steps'], 'tbptt')).toThrow(new TypeError('Expected object for tbptt but received x of type string'));
  });
});

describe('choice / optionalChoice', () => {
  it('returns the value, or the fallback for undefined', () => {
    expect(choice('max', 'mode', ['min', 'max'])).toBe('max');
    expect(optionalChoice(undefined, 'mode', ['min', 'max'], 'min')).toBe('min');
    expect(optionalChoice(undefined, 'interval', ['batch', 'epoch'], undefined)).toBeUndefined();
  });

  it('RangeError for an unknown string, TypeError for anything else', () => {
    expect(() => choice('avg', 'mode', ['min', 'max'])).toThrow(new RangeError('Expected one of min, max for mode but received avg of type string'));
    expect(() => optionalChoice(null, 'mode', ['min', 'max'], 'min')).toThrow(new TypeError('Expected one of min, max for mode but received null'));
  });
});

describe('expectTensor', () => {
  it('passes a Tensor, names anything else', () => {
    expect(() => expectTensor(new Tensor(new Float32Array(1), []))).not.toThrow();
    expect(() => expectTensor(new Float32Array(4), 'target')).toThrow(new TypeError('Expected Tensor for target but received a Float32Array of length 4'));
    expect(() => expectTensor([1, 2])).toThrow(new TypeError('Expected Tensor for input but received an Array of length 2'));
  });
});
