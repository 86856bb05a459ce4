//go:build desktop && darwin

package attention

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework Cocoa
#import <Cocoa/Cocoa.h>

static NSInteger sbRequest = 0;

// On the main thread, as AppKit wants: a dock bounce (until the app is
// activated, which ends it by itself) and a "!" badge on the dock icon.
static void sb_attention(int on) {
	dispatch_async(dispatch_get_main_queue(), ^{
		if (on) {
			if (sbRequest != 0) {
				[NSApp cancelUserAttentionRequest:sbRequest];
			}
			sbRequest = [NSApp requestUserAttention:NSInformationalRequest];
			[[NSApp dockTile] setBadgeLabel:@"!"];
		} else {
			if (sbRequest != 0) {
				[NSApp cancelUserAttentionRequest:sbRequest];
				sbRequest = 0;
			}
			[[NSApp dockTile] setBadgeLabel:nil];
		}
	});
}
*/
import "C"

// Window bounces the dock icon and badges it (on), or stops and clears
// both. Not built on the Linux machines the tests run on: it is checked on
// a Mac only.
func Window(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.sb_attention(v)
}
