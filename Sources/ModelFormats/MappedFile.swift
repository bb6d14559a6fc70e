#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error opening or mapping a file.
public enum FileError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case cannotStat(path: String, errno: Int32)
    case notARegularFile(path: String)
    case cannotMap(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, e): return "cannot open \(path): \(String(cString: strerror(e)))"
        case let .cannotStat(path, e): return "cannot stat \(path): \(String(cString: strerror(e)))"
        case let .notARegularFile(path): return "\(path) is not a regular file"
        case let .cannotMap(path, e): return "cannot memory-map \(path): \(String(cString: strerror(e)))"
        }
    }
}

/// A whole file mapped read-only into memory. The mapping lives as long as this object, and every
/// tensor view into it keeps it alive. Nothing is read until a page is touched.
///
/// ``init(copying:name:)`` makes one from bytes already in memory instead, so that the readers built
/// on `MappedFile` (`GGUFFile`, `SafetensorsFile`) parse such bytes with exactly the code that parses
/// files: the fuzz harnesses and the corruption tests use it.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the bytes are read-only (PROT_READ, or a private copy) and never change after init.
    public let path: String
    /// The first byte of the file (`nil` for an empty file, which is not mapped).
    public let baseAddress: UnsafeRawPointer?
    /// The file's size in bytes.
    public let count: Int
    /// Whether `baseAddress` is a heap copy (freed in deinit) rather than a mapping (unmapped).
    private let isHeapCopy: Bool

    public init(path: String) throws(FileError) {
        self.path = path
        isHeapCopy = false
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotStat(path: path, errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        let size = Int(st.st_size)
        count = size
        if size == 0 {
            baseAddress = nil
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .cannotMap(path: path, errno: errno)
        }
        baseAddress = UnsafeRawPointer(p)
    }

    /// A private heap copy of `bytes`, read as if it were a file called `name` (which appears in
    /// error messages). The copy is exactly `bytes.count` long, so a parser reading one byte too far
    /// touches the allocator's red zone under AddressSanitizer (a mapping would hide it in the
    /// page's slack).
    public init(copying bytes: [UInt8], name: String) {
        path = name
        isHeapCopy = true
        count = bytes.count
        guard !bytes.isEmpty else {
            baseAddress = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { copy.copyMemory(from: source, byteCount: $0.count) } }
        baseAddress = UnsafeRawPointer(copy)
    }

    deinit {
        guard let baseAddress, count > 0 else { return }
        if isHeapCopy {
            UnsafeMutableRawPointer(mutating: baseAddress).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: baseAddress), count)
        }
    }

    /// The file's bytes. Empty for an empty file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }

    /// Drops the pages wholly inside `offset ..< offset + count` from this process's memory
    /// (`madvise(MADV_DONTNEED)`), for a reader that passes over a large file once: a page read again
    /// later comes back from the file, unchanged, since the mapping is read-only. Pages the range
    /// only partly covers stay. Does nothing for a heap copy or a range outside the file.
    public func releasePages(offset: Int, count: Int) {
        guard !isHeapCopy, let baseAddress, offset >= 0, count > 0, offset <= self.count - count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = (Int(bitPattern: baseAddress) + offset + page - 1) / page * page
        let end = (Int(bitPattern: baseAddress) + offset + count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, Int32(MADV_DONTNEED))
    }
}
