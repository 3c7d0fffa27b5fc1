package elect

/*
#include <elect.h>
*/
import "C"

// Code is the numeric error code of the elect C ABI (elect_status), numbered once in the Rust
// core and never renumbered.
type Code int32

// The codes of include/elect.h.
const (
	CodeOK              Code = C.ELECT_OK
	CodeInvalidArgument Code = C.ELECT_ERR_INVALID_ARGUMENT
	CodeUnreachable     Code = C.ELECT_ERR_UNREACHABLE
	CodeAuth            Code = C.ELECT_ERR_AUTH
	CodeTimeout         Code = C.ELECT_ERR_TIMEOUT
	CodeNotLeader       Code = C.ELECT_ERR_NOT_LEADER
	CodeClosed          Code = C.ELECT_ERR_CLOSED
	CodeStore           Code = C.ELECT_ERR_STORE
	CodeUnsupported     Code = C.ELECT_ERR_UNSUPPORTED
	CodeWrongState      Code = C.ELECT_ERR_WRONG_STATE
	CodeInternal        Code = C.ELECT_ERR_INTERNAL
	CodePermission      Code = C.ELECT_ERR_PERMISSION
)

// String is the stable short name of the code, e.g. "invalid_argument".
func (c Code) String() string {
	return C.GoString(C.elect_status_name(C.int32_t(c)))
}

// Error is a failed call: its code and the library's message, which names the bad part of the
// input (e.g. "option `ttl`: ...") and never contains a password.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	return "elect: " + e.Code.String() + ": " + e.Message
}

// Is makes errors.Is(err, elect.ErrTimeout) (and the other Err values) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Values to compare errors with errors.Is; they match any message.
var (
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrUnreachable     = &Error{Code: CodeUnreachable}
	ErrAuth            = &Error{Code: CodeAuth}
	ErrTimeout         = &Error{Code: CodeTimeout}
	ErrNotLeader       = &Error{Code: CodeNotLeader}
	ErrClosed          = &Error{Code: CodeClosed}
	ErrStore           = &Error{Code: CodeStore}
	ErrUnsupported     = &Error{Code: CodeUnsupported}
	ErrWrongState      = &Error{Code: CodeWrongState}
	ErrInternal        = &Error{Code: CodeInternal}
	ErrPermission      = &Error{Code: CodePermission}
)

func errorf(code Code, message string) error {
	return &Error{Code: code, Message: message}
}
