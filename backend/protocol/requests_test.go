package protocol

import "testing"

func TestCheckRequestList(t *testing.T) {
	t.Parallel()
	p, err := CheckRequestList(RequestList{Channel: " support "})
	if err != nil || p.Limit != MaxRequestList || p.Channel != "support" {
		t.Errorf("defaults: %+v %v", p, err)
	}
	if p, err := CheckRequestList(RequestList{State: RequestClosed, Limit: 10}); err != nil || p.Limit != 10 {
		t.Errorf("closed, 10: %+v %v", p, err)
	}
	if p, _ := CheckRequestList(RequestList{Limit: 100000}); p.Limit != MaxRequestList {
		t.Errorf("a limit over the cap: %d", p.Limit)
	}
	for _, bad := range []RequestList{{State: "pending"}, {Limit: -1}} {
		if _, err := CheckRequestList(bad); err == nil || err.Code != CodeBadRequest {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if CheckRequestRef(0) == nil || CheckRequestRef(-5) == nil || CheckRequestRef(1001) != nil {
		t.Error("CheckRequestRef")
	}
	for _, c := range []string{CmdRequestList, CmdRequestGet, CmdRequestClaim, CmdRequestAnswer, CmdRequestClose, CmdRequestAssign} {
		if !Known(c) {
			t.Errorf("%s is not a known command", c)
		}
	}
}
