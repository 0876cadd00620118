/**
 * `mode-connectivity/checkpoint`: safetensors files, native checkpoints with their metadata,
 * PyTorch state dicts (import and export) and TensorFlow.js Layers models.
 *
 * @module mode-connectivity/checkpoint
 */
export {
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  parseSafetensors,
  serializeSafetensors,
  SAFETENSORS_DTYPES,
  type SafetensorsTensor,
  type SafetensorsContents,
  type SafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsTensorToWrite,
  type ReadSafetensorsOptions,
} from '../checkpoint/safetensors.js';
export { saveCheckpoint, loadCheckpoint, type LoadCheckpointOptions, type LoadedCheckpoint, type CheckpointFileFormat } from '../checkpoint/checkpoint.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, type CheckpointInfo, type CheckpointMetadata, type CheckpointMetadataOnDisk, type JsonValue } from '../checkpoint/metadata.js';
export {
  importPyTorchStateDict,
  loadPyTorchStateDict,
  exportPyTorchStateDict,
  savePyTorchStateDict,
  detectPyTorchArchitecture,
  inferPyTorchConfig,
  type ImportPyTorchOptions,
  type ExportPyTorchOptions,
  type PyTorchNaming,
} from '../checkpoint/pytorch.js';
export { loadTfjsLayersModel, importTfjsLayersModel, type ImportedTfjsLayersModel, type ImportTfjsLayersOptions } from '../checkpoint/tfjs-layers.js';
