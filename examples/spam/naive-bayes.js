// The baseline: multinomial naive Bayes (the classic spam filter) on the same tokens as the
// recurrent model — rnnkit's WordTokenizer — but over each whole message (no length cut) and every
// word of the training messages, which only helps it. Laplace smoothing (alpha = 1), class priors
// from the training counts; words never seen in training are ignored.

export class MultinomialNaiveBayes {
  /** @param {{ alpha?: number }} options additive smoothing of the word counts (default 1) */
  constructor({ alpha = 1 } = {}) {
    this.alpha = alpha;
  }

  /**
   * @param {string[][]} documents tokens of each training document
   * @param {number[]} labels class index of each (0 … classes − 1)
   * @param {number} classes
   */
  fit(documents, labels, classes) {
    const counts = Array.from({ length: classes }, () => new Map());
    const totals = new Array(classes).fill(0);
    const docs = new Array(classes).fill(0);
    const vocabulary = new Set();
    documents.forEach((tokens, i) => {
      const c = labels[i];
      docs[c]++;
      for (const token of tokens) {
        counts[c].set(token, (counts[c].get(token) ?? 0) + 1);
        totals[c]++;
        vocabulary.add(token);
      }
    });
    this.vocabulary = vocabulary;
    this.logPrior = docs.map((n) => Math.log(n / documents.length));
    // log P(word | class) with Laplace smoothing, and the value of a word the class never used
    const denominators = totals.map((n) => n + this.alpha * vocabulary.size);
    this.logLikelihood = counts.map((map, c) => new Map([...map].map(([t, n]) => [t, Math.log((n + this.alpha) / denominators[c])])));
    this.logUnseen = denominators.map((d) => Math.log(this.alpha / d));
    return this;
  }

  /** log P(class) + Σ log P(word | class) for each class (the unnormalized log posterior). */
  logJoint(tokens) {
    return this.logPrior.map((prior, c) => {
      let sum = prior;
      for (const token of tokens) {
        if (!this.vocabulary.has(token)) continue;
        sum += this.logLikelihood[c].get(token) ?? this.logUnseen[c];
      }
      return sum;
    });
  }

  /** The posterior probability of each class. */
  probabilities(tokens) {
    const joint = this.logJoint(tokens);
    const top = Math.max(...joint);
    const weights = joint.map((v) => Math.exp(v - top));
    const total = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => w / total);
  }

  /** Binary: log P(class 1 | x) − log P(class 0 | x), a score for ROC AUC without underflow. */
  logOdds(tokens) {
    const [ham, spam] = this.logJoint(tokens);
    return spam - ham;
  }
}
