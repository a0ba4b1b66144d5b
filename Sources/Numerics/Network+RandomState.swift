/// The random streams a network draws from while it trains (dropout masks), so a run that
/// stops can continue with the same masks it would have drawn.
extension Network {
    /// The generator of every dropout layer, in backbone order.
    public var dropoutGenerators: [SeededGenerator] {
        backbone.compactMap { ($0 as? Dropout)?.generator }
    }

    /// Puts saved generators back into the dropout layers, in backbone order.
    ///
    /// - Throws: `NumericsError.invalidSpec` when the count differs from the network's dropout layers.
    public func restoreDropoutGenerators(_ generators: [SeededGenerator]) throws {
        let layers = backbone.compactMap { $0 as? Dropout }
        guard layers.count == generators.count else {
            throw NumericsError.invalidSpec("\(generators.count) saved dropout generators for \(layers.count) dropout layers")
        }
        for (layer, generator) in zip(layers, generators) { layer.generator = generator }
    }
}
