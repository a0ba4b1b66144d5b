extension Array where Element: Numeric {
    /// Makes this a buffer of exactly `count` elements, reusing the storage when the count is
    /// unchanged (contents are then stale; callers overwrite them).
    ///
    /// Layers keep their outputs and gradients in such buffers and hand them out as tensors.
    /// Once the consumers have let go (layers drop their caches after `backward`), the next
    /// step writes into the same memory instead of allocating and page-faulting fresh megabytes;
    /// if a consumer still holds one, copy-on-write keeps its tensor intact.
    mutating func prepare(count: Int) {
        if self.count != count { self = Array(repeating: 0, count: count) }
    }
}
