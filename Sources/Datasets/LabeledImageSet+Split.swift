import Numerics

extension LabeledImageSet {
    /// Splits off a held-out validation set, stratified: within each class, a seeded shuffle
    /// picks `round(fraction × class size)` images for validation, so both parts keep the
    /// class proportions. Both parts keep the original order of the images they hold.
    ///
    /// - Parameter fraction: the share of each class held out, in [0, 1).
    /// - Throws: `DatasetError.invalidParameter` for a fraction outside [0, 1).
    public func splitValidation(fraction: Double, seed: UInt64) throws -> (training: LabeledImageSet, validation: LabeledImageSet) {
        guard fraction >= 0, fraction < 1 else {
            throw DatasetError.invalidParameter("validation fraction \(fraction) is outside [0, 1)")
        }
        var byClass = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { byClass[label].append(index) }
        var generator = SeededGenerator(seed: seed)
        var held = [Bool](repeating: false, count: count)
        for var members in byClass {
            members.seededShuffle(using: &generator)
            let take = Int((fraction * Double(members.count)).rounded())
            for index in members.prefix(take) { held[index] = true }
        }
        let validation = held.indices.filter { held[$0] }
        let training = held.indices.filter { !held[$0] }
        return (subset(training), subset(validation))
    }
}
