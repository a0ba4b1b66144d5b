extension HeadSpec {
    /// How many floats a model stores for this head: N·C + C for the learned head (W and b),
    /// only α (when learned) and b (when present) for a fixed head, whose matrix is rebuilt.
    public var storedHeadParameterCount: Int {
        let biasCount = bias ? classes : 0
        switch kind {
        case .learned: return features * classes + biasCount
        case .orthonormal, .hadamard: return (alphaLearned ? 1 : 0) + biasCount
        }
    }

    /// `storedHeadParameterCount` in bytes of Float32.
    public var storedHeadBytes: Int { storedHeadParameterCount * MemoryLayout<Float>.size }
}
