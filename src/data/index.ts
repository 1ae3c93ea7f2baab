/**
 * Data loading: datasets (tensors, arrays, streams), `DataLoader` (batching, seeded shuffling,
 * bucketing by length), collate functions (stacking, padding with lengths) and `randomSplit`; the
 * word-level text pipeline (`WordTokenizer`, `Vocabulary`, `TextDataset`).
 * @module
 */
export {
  TensorDataset, ArrayDataset, Subset, IterableDataset, randomSplit, isDataset,
  type Dataset, type TensorSource, type ItemSource, type RandomSplitOptions,
} from './dataset.js';
export { defaultCollate, padCollate, sequenceLength, stackLeaves, type Collate, type Collated, type PadCollateOptions, type PaddedBatch } from './collate.js';
export { DataLoader, type DataLoaderOptions, type DataSource } from './loader.js';
export { RandomBatchSampler, BucketBatchSampler, type BatchSampler, type SamplerOptions } from './sampler.js';
export { SeededGenerator, deriveSeed } from './generator.js';
export { WordTokenizer, type WordTokenizerOptions } from './tokenizer.js';
export { Vocabulary, PAD_TOKEN, UNK_TOKEN, type VocabularyOptions, type VocabularyJSON } from './vocabulary.js';
export { TextDataset, encodeText, type TextEncodingOptions, type TextItem } from './text-dataset.js';
