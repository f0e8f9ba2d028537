/** Images to tensors (being written). */
import { OnnxfxError } from './errors.js';

export const PRESETS = {};

export async function imageToTensor() {
  throw new OnnxfxError('INVALID_ARGUMENT', 'imageToTensor is not available yet');
}
