/// How many numbers a model trains and stores, by part, and what its fixed head saves.
public struct ParameterCount: Equatable, Sendable {
    /// Trained scalars in the backbone.
    public var backbone: Int
    /// Trained scalars in the head (W and b for a learned head; α if learned and b for a fixed one).
    public var head: Int
    /// Stored but untrained scalars (BatchNorm running statistics).
    public var buffers: Int
    /// Bytes the head occupies in `model.safetensors` (F32).
    public var headStoredBytes: Int
    /// Bytes a learned head of the same N × C shape (W and b) would occupy.
    public var learnedHeadBytes: Int

    /// All trained scalars.
    public var total: Int { backbone + head }

    public init(backbone: Int, head: Int, buffers: Int, headStoredBytes: Int, learnedHeadBytes: Int) {
        self.backbone = backbone
        self.head = head
        self.buffers = buffers
        self.headStoredBytes = headStoredBytes
        self.learnedHeadBytes = learnedHeadBytes
    }
}
