/**
 * `rnnkit train seq2seq` and `rnnkit translate`: the attentional encoder–decoder of
 * src/tasks/seq2seq.ts from the command line. Training holds out a seeded share of the pairs to
 * score after every epoch (error rates of greedy outputs) and stops early when they stop improving;
 * translate reads one source per line from a file or stdin and prints the output and its score.
 * @module
 */
import { readFileSync } from 'node:fs';
import * as seq2seq from '../tasks/seq2seq.js';
import { manualSeed } from '../tensor/random.js';
import { splitRows } from './classify.js';
import { asUserError, CliError, describeFsError } from './errors.js';
import { checkInputFile, readInputText, writeOutputFile } from './files.js';
import { checkModelSize } from './limits.js';
import { epochPrinter, plural, progressSetting, type Output } from './output.js';
import type { TRAIN_SEQ2SEQ_OPTIONS, TRANSLATE_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** Options of `rnnkit train seq2seq`. */
export type TrainSeq2SeqCliOptions = OptionValues<typeof TRAIN_SEQ2SEQ_OPTIONS>;

const percent = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** The pairs of the TSV file; a malformed line is a usage error naming the file and the line. */
function readPairs(o: TrainSeq2SeqCliOptions): seq2seq.ParsedPairs {
  try {
    return seq2seq.parsePairs(readInputText(o.input), o.input, { source: o.sourceTokens, target: o.targetTokens });
  } catch (error) {
    return asUserError(error, 'cannot read the pairs');
  }
}

/**
 * The decoder is the largest part (directions × --hidden units): checked as checkModelSize's
 * recurrent stack of that width, with its messages naming the flag as the user gave it.
 */
function checkSeq2SeqSize(o: TrainSeq2SeqCliOptions, vocabs: seq2seq.Seq2SeqVocabs): void {
  try {
    checkModelSize({
      cell: o.cell, inputSize: o.embedding, hidden: 2 * o.hidden, layers: 2 * o.layers, outputs: vocabs.target.size,
      embedding: { vocab: vocabs.source.size + vocabs.target.size, dim: o.embedding },
    }, `--embedding ${o.embedding}`);
  } catch (error) {
    if (error instanceof CliError) {
      throw new CliError(error.message.replace(`--hidden ${2 * o.hidden}`, `--hidden ${o.hidden} (a decoder of ${2 * o.hidden})`)
        .replace(`--layers ${2 * o.layers}`, `--layers ${o.layers}`));
    }
    throw error;
  }
}

/** Trains a Seq2Seq on a TSV file of pairs, reports validation error rates, saves it and shows a few outputs. */
export async function trainSeq2Seq(o: TrainSeq2SeqCliOptions, output: Output): Promise<Record<string, number>> {
  const { pairs, tokenization } = readPairs(o);
  manualSeed(o.seed);
  const [trainRows, valRows] = splitRows(pairs.length, o.valSplit);
  const train = Array.from(trainRows, (i) => pairs[i]);
  const validation = valRows.length > 0 ? Array.from(valRows, (i) => pairs[i]) : null;
  const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(train, tokenization);
  const directions = 2;
  checkSeq2SeqSize(o, vocabs);
  const model = seq2seq.createModel(vocabs, {
    cell: o.cell, embeddingDim: o.embedding, hiddenSize: o.hidden, numLayers: o.layers, attention: o.attention, dropout: o.dropout,
  });
  output.info(`${o.input}: ${train.length} training and ${validation?.length ?? 0} validation pairs; source ${tokenization.source} `
    + `(${vocabs.source.size - 4} symbols), target ${tokenization.target} (${vocabs.target.size - 4} symbols)`);
  output.info(`Seq2Seq: ${o.cell.toUpperCase()} encoder 2×${o.hidden}, decoder ${directions * o.hidden}, ${plural(o.layers, 'layer')}, ${o.attention} attention, `
    + `embeddings ${o.embedding}, dropout ${o.dropout}; Adam lr ${o.lr}, batch ${o.batchSize}, at most ${plural(o.epochs, 'epoch')}`
    + `${validation ? `, early stopping after ${o.patience} without a better validation WER` : ''}, seed ${o.seed}`);
  const history = await seq2seq.train(model, vocabs, train, {
    validation, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, patience: o.patience, labelSmoothing: o.smoothing, clipGradNorm: o.clip,
    seed: o.seed, progress: progressSetting(output), callbacks: epochPrinter(output, o.epochs, ['loss', 'val_wer', 'val_per']),
  });
  if (history.stopReason === 'earlyStopping') output.info(`stopped early: kept the weights of epoch ${history.bestEpoch + 1}`);
  const result: Record<string, number> = { ...(history.epochs.at(-1) ?? { epoch: -1 }) };
  if (validation) {
    const beam = seq2seq.evaluate(model, vocabs, validation, { beamWidth: o.beam });
    const greedy = o.beam === 1 ? beam : seq2seq.evaluate(model, vocabs, validation);
    output.info(`validation: greedy WER ${percent(greedy.wer)}, PER ${percent(greedy.per)}`
      + `${o.beam > 1 ? `; beam ${o.beam} WER ${percent(beam.wer)}, PER ${percent(beam.per)}` : ''}`);
    Object.assign(result, { greedyWer: greedy.wer, greedyPer: greedy.per, beamWer: beam.wer, beamPer: beam.per });
    validation.slice(0, 3).forEach((pair, i) => output.info(`  ${seq2seq.detokenize(pair.source, tokenization.source)} → `
      + `${seq2seq.detokenize(beam.outputs[i].tokens, tokenization.target)} (reference ${seq2seq.detokenize(pair.target, tokenization.target)})`));
  }
  await writeOutputFile(o.out, 'output file', o.force === true, () => seq2seq.save(o.out, model, vocabs, { source: 'rnnkit train seq2seq' }));
  output.info(`saved ${o.out}; translate with 'rnnkit translate --model ${o.out}'`);
  return result;
}

/** Options of `rnnkit translate`. */
export type TranslateCliOptions = OptionValues<typeof TRANSLATE_OPTIONS>;

/** The sources: the lines of --input, or of stdin. */
function readSources(o: TranslateCliOptions): string[] {
  let text: string;
  if (o.input !== undefined) {
    text = readInputText(o.input);
  } else {
    try {
      text = readFileSync(0, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read stdin: ${describeFsError(error)}`);
    }
  }
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line)).filter((line) => line.trim() !== '');
}

/**
 * Loads a model written by `rnnkit train seq2seq` (or seq2seq.save) and prints, per source line,
 * `source<TAB>output<TAB>score` (score: Σ log p of the output). Source symbols the model never saw
 * are read as `<unk>`; a note on stderr names them and their line.
 */
export function runTranslate(o: TranslateCliOptions, output: Output, stderr: NodeJS.WritableStream = process.stderr): seq2seq.Translation[] {
  checkInputFile(o.model, 'model file');
  let loaded: seq2seq.LoadedSeq2Seq;
  try {
    loaded = seq2seq.load(o.model);
  } catch (error) {
    if (error instanceof TypeError && /seq2seq safetensors/.test(error.message)) {
      throw new CliError(`'${o.model}' is not a seq2seq model (write one with 'rnnkit train seq2seq'): its metadata has no rnnkit.task = seq2seq`);
    }
    return asUserError(error, `cannot load model '${o.model}'`);
  }
  const { model, vocabs } = loaded;
  const lines = readSources(o);
  if (lines.length === 0) throw new CliError(`no source lines in ${o.input ?? 'stdin'} (one source sequence per line)`);
  const sources = lines.map((line) => seq2seq.tokenize(line.trim(), vocabs.source.tokenization));
  const results = seq2seq.translate(model, vocabs, sources, { beamWidth: o.beam, lengthPenalty: o.lengthPenalty, maxLength: o.maxLength ?? null });
  results.forEach((result, i) => {
    if (result.unknown.length > 0) {
      const symbols = [...new Set(result.unknown)].map((s) => JSON.stringify(s)).join(', ');
      stderr.write(`rnnkit: note: line ${i + 1}: ${symbols} not in the model's source vocabulary (read as <unk>)\n`);
    }
    output.info(`${lines[i].trim()}\t${seq2seq.detokenize(result.tokens, vocabs.target.tokenization)}\t${result.score.toFixed(4)}`);
  });
  return results;
}
