/**
 * `rnnkit train text` and `rnnkit generate`: the character-level language model of
 * src/tasks/text.ts from the command line. Training holds out the end of the text for validation
 * (bits per character against the unigram baseline) and shows a sample at the end.
 * @module
 */
import * as text from '../tasks/text.js';
import { manualSeed } from '../tensor/random.js';
import { asUserError, CliError } from './errors.js';
import { checkInputFile, readInputText, writeOutputFile } from './files.js';
import { checkModelSize } from './limits.js';
import { epochPrinter, plural, progressSetting, type Output } from './output.js';
import type { GENERATE_OPTIONS, TRAIN_TEXT_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** Options of `rnnkit train text` (resolved by src/cli/train.ts). */
export type TrainTextCliOptions = OptionValues<typeof TRAIN_TEXT_OPTIONS>;

/** The text split into [train, validation]: the last `valSplit` of the characters (at least 2) validate. */
function splitText(corpus: string, valSplit: number): [string, string | null] {
  const chars = [...corpus];
  if (valSplit === 0) return [corpus, null];
  const valCount = Math.max(2, Math.round(chars.length * valSplit));
  return [chars.slice(0, chars.length - valCount).join(''), chars.slice(chars.length - valCount).join('')];
}

/** Trains a CharLM on a text file, reports bits per character, saves it and prints a sample. */
export async function trainText(o: TrainTextCliOptions, output: Output): Promise<Record<string, number>> {
  const corpus = readInputText(o.input);
  if ([...corpus].length < 2 * o.seqLen) {
    throw new CliError(`${o.input}: ${[...corpus].length} characters is too short for --seq-len ${o.seqLen} (needs at least ${2 * o.seqLen}; lower --seq-len)`);
  }
  const [trainPart, validation] = splitText(corpus, o.valSplit);
  if ([...trainPart].length <= o.seqLen) {
    throw new CliError(`${o.input}: the training part (${[...trainPart].length} characters after --val-split ${o.valSplit}) is shorter than --seq-len ${o.seqLen} + 1`);
  }
  manualSeed(o.seed);
  const vocab = text.CharVocab.fromText(corpus);
  checkModelSize({
    cell: o.cell, inputSize: o.embedding, hidden: o.hidden, layers: o.layers, outputs: vocab.size, embedding: { vocab: vocab.size, dim: o.embedding },
  }, `--embedding ${o.embedding}`);
  const model = new text.CharLM(vocab.size, { cell: o.cell, embeddingDim: o.embedding, hiddenSize: o.hidden, numLayers: o.layers, dropout: o.dropout });
  output.info(`${o.input}: ${[...trainPart].length} training and ${validation ? [...validation].length : 0} validation characters, `
    + `${vocab.size} distinct; unigram baseline ${text.unigramBitsPerChar(trainPart).toFixed(3)} bits/char`);
  output.info(`Embedding(${vocab.size}→${o.embedding}) → ${o.cell.toUpperCase()}(${o.hidden}, ${plural(o.layers, 'layer')}) → Linear(${o.hidden}→${vocab.size}); `
    + `windows of ${o.seqLen}, BPTT ${o.bptt}, batch ${o.batchSize}, Adam one-cycle lr ${o.lr}, ${plural(o.epochs, 'epoch')}, seed ${o.seed}`);
  const history = await text.train(model, vocab, trainPart, {
    validation, epochs: o.epochs, batchSize: o.batchSize, seqLength: o.seqLen, bpttSteps: o.bptt, lr: o.lr,
    clipGradNorm: o.clip, seed: o.seed, progress: progressSetting(output),
    callbacks: epochPrinter(output, o.epochs, ['loss', 'bpc', 'val_loss', 'val_bpc']),
  });
  await writeOutputFile(o.out, 'output file', o.force === true, () => text.save(o.out, model, vocab, { source: 'rnnkit train text' }));
  output.info(`saved ${o.out}`);
  if (o.sample > 0) {
    const prompt = vocab.idOf('\n') >= 0 ? '\n' : [...corpus][0];
    output.info(`sample (temperature ${o.temperature}, seed ${o.seed}):`);
    output.info(prompt.trim() + text.generate(model, vocab, { prompt, length: o.sample, temperature: o.temperature, seed: o.seed }));
  }
  return history.epochs.at(-1) ?? { epoch: -1 };
}

/** Options of `rnnkit generate`. */
export type GenerateCliOptions = OptionValues<typeof GENERATE_OPTIONS>;

/** Loads a model written by `rnnkit train text` (or text.save) and prints the prompt and what follows. */
export function runGenerate(o: GenerateCliOptions, output: Output): string {
  checkInputFile(o.model, 'model file');
  let loaded: text.LoadedCharLM;
  try {
    loaded = text.load(o.model);
  } catch (error) {
    if (error instanceof TypeError && /char-lm/.test(error.message)) {
      throw new CliError(`'${o.model}' is not a text model (write one with 'rnnkit train text'): its metadata has no rnnkit.task = char-lm`);
    }
    return asUserError(error, `cannot load model '${o.model}'`);
  }
  const { model, vocab } = loaded;
  if (o.topK !== undefined && o.topK > vocab.size) throw new CliError(`--top-k must be at most the vocabulary size ${vocab.size}, got '${o.topK}'`);
  if (o.prompt !== undefined) {
    const unknown = [...new Set([...o.prompt])].filter((c) => vocab.idOf(c) < 0 && vocab.unknown === null);
    if (unknown.length > 0) {
      throw new CliError(`--prompt has characters the model never saw: ${unknown.map((c) => JSON.stringify(c)).join(', ')}`);
    }
  }
  let generated: string;
  try {
    generated = text.generate(model, vocab, { prompt: o.prompt, length: o.length, temperature: o.temperature, topK: o.topK ?? null, seed: o.seed });
  } catch (error) {
    return asUserError(error, 'cannot generate');
  }
  const result = (o.prompt ?? '') + generated;
  output.info(result);
  return result;
}
