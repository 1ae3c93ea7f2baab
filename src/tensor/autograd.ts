/**
 * The define-by-run tape: every op that has an input requiring a gradient records one node with
 * its inputs and a backward function; `backward()` walks the nodes in reverse topological order.
 * A whole native sequence layer is one node (coarse nodes, micrograd style).
 * @module
 */
import type { Tensor } from './tensor.js';

/**
 * Computes the gradients of an op's inputs from the gradient of its output (same shapes as the
 * inputs / output, contiguous). Return null for an input that gets no gradient.
 */
export type BackwardFn = (gradOutput: Float32Array) => (Float32Array | null)[];

/** {@link BackwardFn} computed off the JS thread (e.g. a recurrent layer's BPTT on the libuv pool). */
export type AsyncBackwardFn = (gradOutput: Float32Array) => Promise<(Float32Array | null)[]>;

/** A recorded op. */
export interface GradNode {
  /** The operation's name (`gradFn.name`). */
  readonly name: string;
  /** The tensors the operation read. */
  readonly inputs: readonly Tensor[];
  /** Maps the gradient of the output to the gradients of the inputs. */
  readonly backward: BackwardFn;
  /** Same result as `backward`, awaited by `backwardAsync()` so the event loop stays free. */
  readonly backwardAsync?: AsyncBackwardFn;
}

let gradEnabled = true;

/** Whether ops currently record the tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording gradients (like `with torch.no_grad():`); also for async fns. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    const result = fn();
    if (result instanceof Promise) {
      return result.finally(() => {
        gradEnabled = previous;
      }) as T;
    }
    gradEnabled = previous;
    return result;
  } catch (error) {
    gradEnabled = previous;
    throw error;
  }
}

/** Whether an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  return gradEnabled && inputs.some((t) => t.requiresGrad);
}

// Nodes reachable from root, inputs before the ops that use them.
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [tensor, next] = top;
    const inputs = tensor.gradFn?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      order.push(tensor);
      stack.pop();
    }
  }
  return order;
}

/** One node's backward to run: the engine yields it and resumes with its input gradients. */
export interface BackwardCall {
  node: GradNode;
  gradOutput: Float32Array;
}

/**
 * The engine as a generator: yields each node's backward call and receives its input gradients, so
 * one loop serves the synchronous {@link runBackward} and the awaiting {@link runBackwardAsync}.
 * Backward functions may return their gradOutput or one array for several inputs: gradients are
 * copied before the first in-place accumulation (copy on write).
 */
function* backwardSteps(root: Tensor, seed: Float32Array): Generator<BackwardCall, void, (Float32Array | null)[]> {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Float32Array>([[root, seed]]);
  const owned = new Set<Float32Array>();
  for (let k = order.length - 1; k >= 0; k--) {
    const tensor = order[k];
    const grad = grads.get(tensor);
    if (!grad) continue;
    grads.delete(tensor);
    if (!tensor.gradFn) {
      tensor.accumulateGrad(grad);
      continue;
    }
    const inputGrads = yield { node: tensor.gradFn, gradOutput: grad };
    tensor.gradFn.inputs.forEach((input, i) => {
      const g = inputGrads[i];
      if (!g || !input.requiresGrad) return;
      let existing = grads.get(input);
      if (!existing) {
        grads.set(input, g);
        return;
      }
      if (!owned.has(existing)) {
        existing = existing.slice();
        owned.add(existing);
        grads.set(input, existing);
      }
      for (let j = 0; j < existing.length; j++) existing[j] += g[j];
    });
  }
}

/** Backpropagates `seed` (d root) through the tape into the `.grad` of every leaf that requires it. */
export function runBackward(root: Tensor, seed: Float32Array): void {
  const steps = backwardSteps(root, seed);
  for (let next = steps.next(); !next.done;) next = steps.next(next.value.node.backward(next.value.gradOutput));
}

/** Synchronous work (ms) after which {@link runBackwardAsync} lets the event loop run. */
const BACKWARD_SLICE_MS = 4;

/**
 * {@link runBackward}, awaiting the nodes that have a `backwardAsync` (the recurrent layers' BPTT
 * runs on the libuv thread pool); the other nodes run on this thread between those awaits, with a
 * turn of the event loop whenever they have run for a few milliseconds in a row. The parameters
 * and saved tensors must not change until the promise settles.
 */
export async function runBackwardAsync(root: Tensor, seed: Float32Array): Promise<void> {
  const steps = backwardSteps(root, seed);
  let sliceStart = performance.now();
  for (let next = steps.next(); !next.done;) {
    const { node, gradOutput } = next.value;
    if (node.backwardAsync) {
      next = steps.next(await node.backwardAsync(gradOutput));
      sliceStart = performance.now();
      continue;
    }
    next = steps.next(node.backward(gradOutput));
    if (performance.now() - sliceStart > BACKWARD_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}
