export { ArrowInputError, inspectArrow, isArrowFile, readArrowChunks } from './arrow-ipc.js';
export { type ByteRange, fixedBlocks, shareOfCount, shareOfRange } from './byte-range.js';
export {
  chunkToRecordBatch,
  csvRecordBatches,
  csvSchema,
  float64ToInt64,
  int64ToFloat64,
} from './csv-arrow.js';
export { CsvParseError, EmptyCsvError } from './csv-errors.js';
export { type CsvDType, type CsvInfo, inspectCsv } from './csv-inspect.js';
export {
  type CsvChunk,
  type CsvReadOptions,
  type CsvReadStats,
  loadCsvRange,
  readCsvChunks,
} from './csv-reader.js';
export {
  type Batch,
  BatchLoader,
  type BatchLoaderOptions,
  IMAGE_EXTENSIONS,
  type ImageFolder,
  listImageFolder,
} from './images.js';
export { ImageDecodeError, ImageFolderError } from './images-errors.js';
export { DistributedSampler, type DistributedSamplerOptions } from './sampler.js';
export { mixSeed, seededRandom } from './sampler-random.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  normaliseInto,
  resizeSideFor,
  type TransformSpec,
  transformInto,
} from './transforms.js';
