import Numerics

extension LabeledImageSet {
    /// A many-class set made from this one: each image is two images of this set side by side
    /// (H × 2W), labelled by the ordered pair of their classes, `left · C + right`, so C classes
    /// give C² (Fashion-MNIST's 10 give 100). The two are drawn uniformly and independently
    /// with a seeded generator, so every pair class is about equally frequent and a seed gives
    /// the same set everywhere.
    ///
    /// - Throws: `DatasetError.invalidParameter` for an empty set or a negative count.
    public func pairs(count: Int, seed: UInt64) throws -> LabeledImageSet {
        guard self.count > 0, count >= 0 else {
            throw DatasetError.invalidParameter("pairs need a non-empty set and a count ≥ 0, got \(self.count) images and count \(count)")
        }
        let rowBytes = width, pairedRow = 2 * width, size = sampleSize
        var generator = SeededGenerator(seed: seed)
        var out = [UInt8](repeating: 0, count: count * 2 * size)
        var labels = [Int](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for sample in 0..<count {
                    let left = Int(generator.next().multipliedFullWidth(by: UInt64(self.count)).high)
                    let right = Int(generator.next().multipliedFullWidth(by: UInt64(self.count)).high)
                    labels[sample] = self.labels[left] * classCount + self.labels[right]
                    for plane in 0..<(channels * height) {
                        let target = dst.baseAddress! + sample * 2 * size + plane * pairedRow
                        target.update(from: src.baseAddress! + left * size + plane * rowBytes, count: rowBytes)
                        (target + rowBytes).update(from: src.baseAddress! + right * size + plane * rowBytes, count: rowBytes)
                    }
                }
            }
        }
        let names = classNames.flatMap { left in classNames.map { right in "\(left) | \(right)" } }
        return LabeledImageSet(unchecked: channels, height: height, width: 2 * width, pixels: out, labels: labels,
                               classNames: names)
    }
}
