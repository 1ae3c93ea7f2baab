/**
 * `AdamW`: torch.optim.AdamW (1.13) — Adam with decoupled weight decay: p *= 1 − lr·weightDecay
 * before the Adam update (weightDecay defaults to 1e-2). The update runs in native code.
 * @module
 */
import { ADAM_OPTION_NAMES, AdamBase, type AdamOptions } from './adam.js';
import { checkOptionNames, type Params, withDefaults } from './optimizer.js';

/**
 * AdamW (PyTorch `torch.optim.AdamW` 1.13, to the rounding): Adam with the weight decay decoupled from the
 * gradient (default 1e-2).
 */
export class AdamW extends AdamBase {
  /**
   * Whether the weight decay is decoupled from the gradient (AdamW) rather than an L2 penalty added to it
   * (Adam).
   */
  protected readonly decoupled = true;

  /** Like {@link Adam}; weightDecay defaults to 1e-2 and decays the weights directly. */
  constructor(params: Params<AdamOptions>, options: AdamOptions = {}) {
    const given = checkOptionNames(options, ADAM_OPTION_NAMES, 'AdamW');
    super(params, withDefaults(given, {
      lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false,
    }));
  }
}
