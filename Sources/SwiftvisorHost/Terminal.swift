import CHostSupport
import Foundation

/// The user's terminal while swiftvisor owns it: raw mode (every key, Ctrl-C and Ctrl-Z
/// included, goes to the focused guest), restored on every way out — a normal end, a signal
/// the event loop handles, or a crash (a C handler restores it before the process dies).
public final class Terminal {
    public let input: Int32
    public let output: Int32
    private var saved = termios()
    public private(set) var isRaw = false

    /// This process's terminal, when both standard input and output are one.
    public static func standard() -> Terminal? {
        isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0 ? Terminal(input: STDIN_FILENO, output: STDOUT_FILENO) : nil
    }

    init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
    }

    /// Raw mode (cfmakeraw: no echo, no line editing, no signals from keys, no output
    /// processing: what we write must say "\r\n").
    public func enterRawMode() {
        guard !isRaw, tcgetattr(input, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        host_restore_terminal_on_crash(input, &saved)
        atexit { Terminal.active?.restore() }
        tcsetattr(input, TCSAFLUSH, &raw)
        isRaw = true
        Terminal.active = self
    }

    public func restore() {
        guard isRaw else { return }
        tcsetattr(input, TCSADRAIN, &saved)
        host_restore_terminal_on_crash(-1, nil)
        isRaw = false
    }

    /// Writes all of `bytes` to the terminal.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(output, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return }
                offset += n
            }
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// The terminal in raw mode, for the exit handler.
    nonisolated(unsafe) static var active: Terminal?
}
