/// The last layer of a classifier: features x of width N → C logits.
///
/// Input [B, N], output [B, C]. `parameters` holds what is trained (W for the learned head;
/// α when learned and b when present for the fixed heads). Fixed heads regenerate their matrix
/// from `spec` and store nothing else.
public protocol ClassificationHead: Layer {
    /// What rebuilds this head.
    var spec: HeadSpec { get }
    /// The largest |cos| between two distinct class vectors (0 for exactly orthogonal rows).
    var coherence: Float { get }
    /// Evaluation-mode logits without caching anything for a backward pass: `batch` rows of N
    /// features at `input` → `batch` rows of C logits at `output`.
    func infer(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>)
}
