// Package pcapng holds the pcapng block types and option codes rxprobe's
// capture writer uses (draft-ietf-opsawg-pcapng) and a strict reader for
// its files, so tests and tools can check what the C writer produced.
//
// Contract: the reader accepts little-endian sections only (the writer's
// byte order), checks that every block's leading and trailing lengths
// agree and that options stay inside their block, and returns a
// *FormatError naming the offset of the first violation. It reads a whole
// file into memory: for tests and small tools, not for the data path.
package pcapng
