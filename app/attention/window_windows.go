//go:build desktop && windows

package attention

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32           = windows.NewLazySystemDLL("user32.dll")
	procFlashWindow  = user32.NewProc("FlashWindowEx")
	procEnumWindows  = user32.NewProc("EnumWindows")
	procIsWindowVis  = user32.NewProc("IsWindowVisible")
	procGetWindowPID = user32.NewProc("GetWindowThreadProcessId")
)

// FLASHWINFO flags (winuser.h).
const (
	flashStop       = 0
	flashAll        = 0x3 // caption and taskbar button
	flashUntilFocus = 0xc // FLASHW_TIMERNOFG: until the window comes to the foreground
)

type flashInfo struct {
	size    uint32
	hwnd    windows.HWND
	flags   uint32
	count   uint32
	timeout uint32
}

// Window flashes the taskbar buttons of this process's visible windows
// until one is brought to the foreground (on), or stops them.
func Window(on bool) {
	flags := uint32(flashStop)
	if on {
		flags = flashAll | flashUntilFocus
	}
	for _, h := range ownWindows() {
		fi := flashInfo{hwnd: h, flags: flags}
		fi.size = uint32(unsafe.Sizeof(fi))
		procFlashWindow.Call(uintptr(unsafe.Pointer(&fi)))
	}
}

// ownWindows lists the visible top-level windows of this process.
func ownWindows() []windows.HWND {
	pid := uint32(os.Getpid())
	var found []windows.HWND
	cb := syscall.NewCallback(func(h windows.HWND, _ uintptr) uintptr {
		var owner uint32
		procGetWindowPID.Call(uintptr(h), uintptr(unsafe.Pointer(&owner)))
		if owner == pid {
			if vis, _, _ := procIsWindowVis.Call(uintptr(h)); vis != 0 {
				found = append(found, h)
			}
		}
		return 1 // go on
	})
	procEnumWindows.Call(cb, 0)
	return found
}
