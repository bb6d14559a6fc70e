import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One streamed request over a bare TCP socket, read as it arrives, so that a test can hang up in
/// the middle of a stream (``HTTPClient`` only hands over whole bodies).
///
/// `@unchecked Sendable`: a test uses it from one task, one call after another; the blocking
/// socket calls run on a Dispatch thread so as not to hold a thread of the cooperative pool.
final class StreamingSocket: @unchecked Sendable {
    private var fd: Int32
    /// The bytes received so far: headers, chunk sizes and events.
    private(set) var received: [UInt8] = []

    /// Connects to the server on `port` and sends `body` to `path` (no leading slash).
    init(port: Int, path: String, body: String) throws {
        fd = try connectToLoopback(port: port)
        // A test that waits for events must fail, not hang, when none come.
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("""
            POST /\(path) HTTP/1.1\r
            Host: 127.0.0.1:\(port)\r
            Content-Type: application/json\r
            Content-Length: \(body.utf8.count)\r
            \r
            \(body)
            """.utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                let code = errno
                close()
                throw TestFailure("send() failed: errno \(code)")
            }
            sent += n
        }
    }

    /// The `data:` payloads received so far (`[DONE]` included), in order.
    var events: [String] {
        // Split as bytes: in a Swift string the chunked encoding's "\r\n" is one character that
        // "\n" does not match. Each event is written whole in one chunk, so chunk-size lines
        // never split one.
        let prefix = Array("data: ".utf8)
        return received.split(separator: UInt8(ascii: "\n")).compactMap { line in
            line.starts(with: prefix) ? String(decoding: line.dropFirst(prefix.count), as: UTF8.self) : nil
        }
    }

    /// Reads until at least `count` events have arrived and returns them all.
    /// - Throws: when the connection ends or times out first.
    func readEvents(atLeast count: Int) async throws -> [String] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String], any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.blockingRead(atLeast: count) })
            }
        }
    }

    private func blockingRead(atLeast count: Int) throws -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while events.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                throw TestFailure("the stream ended after \(events.count) events (recv: \(n), errno \(errno)): \(String(decoding: received, as: UTF8.self).suffix(300))")
            }
            received += buffer[0..<n]
        }
        return events
    }

    /// Hangs up with a reset (`SO_LINGER` 0) rather than a FIN, the way a client that dies or a
    /// proxy that gives up ends a connection: the server sees the connection fail at once.
    func reset() {
        guard fd >= 0 else { return }
        var noLinger = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &noLinger, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    /// Hangs up (at once, unread data or not).
    func close() {
        guard fd >= 0 else { return }
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
        fd = -1
    }

    deinit { close() }
}
