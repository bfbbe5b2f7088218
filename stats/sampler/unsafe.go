package sampler

import "unsafe"

// touch writes one byte at addr, a page this package mapped itself with a
// raw mmap (outside the Go heap).
func touch(addr uintptr) {
	p := (*[1]byte)(unsafe.Add(unsafe.Pointer(nil), addr))
	p[0] = 1
}
