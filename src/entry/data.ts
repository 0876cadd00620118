/**
 * `mode-connectivity/data`: datasets (the embedded fashion-mnist-small, Fashion-MNIST, MNIST,
 * CIFAR), IDX and CIFAR readers, class-balanced subsets, preprocessing, and image batches as tensors.
 *
 * @module mode-connectivity/data
 */
export { SPLIT_NAMES, type ImageSplit, type SplitName } from '../data/types.js';
export { DATASET_NAMES, loadDataset, parseDatasetName, type DatasetName, type LoadDatasetOptions } from '../data/datasets.js';
export { readIdx, writeIdx, readIdxSplit, writeIdxSplit, type IdxArray, type IdxSplitSource } from '../data/idx.js';
export { readCifarSplit, CIFAR10_FORMAT, CIFAR100_FORMAT, type CifarFormat } from '../data/cifar.js';
export { takeSubset, subsetIndices, selectImages, classCounts, type SubsetOptions } from '../data/subset.js';
export {
  DEFAULT_PREPROCESSING,
  NORMALIZATIONS,
  computeChannelStats,
  createPreprocessing,
  parsePreprocessing,
  describePreprocessing,
  preprocessedShape,
  type Preprocessing,
  type Normalization,
  type ImageShape,
  type CreatePreprocessingOptions,
} from '../data/preprocess.js';
export { batchIndices, toTensors, loadBatches, disposeBatches, type Batch, type BatchIndicesOptions } from '../data/batches.js';
