package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// The codes of error answers; clients switch on them, people read the
// message.
const (
	codeBadRequest       = "bad_request"
	codeConflict         = "conflict"
	codeForbidden        = "forbidden"
	codeInternal         = "internal"
	codeMethodNotAllowed = "method_not_allowed"
	codeNotFound         = "not_found"
	codeTimeout          = "timeout"
	codeTooLarge         = "too_large"
	codeUnauthorized     = "unauthorized"
	codeUpstream         = "upstream"
)

// errorBody is the shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// requestError is a problem with the request itself, found by the server
// before the backend is called. Its message is shown to the client.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, codeBadRequest, fmt.Sprintf(format, args...)}
}

// writeJSON answers v as JSON. It encodes before writing the status, so a
// value that cannot be encoded still gets a proper 500.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, fmt.Errorf("encode %T answer: %w", v, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(b, '\n')); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "write answer", slog.String("request_id", requestID(r)), slog.Any("error", err))
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	s.writeJSON(w, r, status, errorBody{errorDetail{Code: code, Message: msg}})
}

// fail answers err with the status its kind calls for. Only errors made to
// be read by clients (request problems, input errors, not found, conflicts,
// dbt Cloud's own messages) have their text shown; anything else is logged
// and answered with a generic 500 that points at the log by request id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		reqErr *requestError
		input  *tracker.InputError
		tooBig *http.MaxBytesError
		api    *dbtcloud.APIError
	)
	switch {
	case errors.As(err, &reqErr):
		s.writeError(w, r, reqErr.status, reqErr.code, reqErr.msg)
	case errors.As(err, &tooBig):
		s.writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge,
			fmt.Sprintf("the request body is larger than the limit of %d bytes", tooBig.Limit))
	case errors.As(err, &input):
		s.writeError(w, r, http.StatusBadRequest, codeBadRequest, input.Msg)
	case errors.Is(err, store.ErrNotFound):
		s.writeError(w, r, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, store.ErrExists), errors.Is(err, tracker.ErrConflict):
		s.writeError(w, r, http.StatusConflict, codeConflict, err.Error())
	case errors.As(err, &api):
		s.upstream(w, r, api)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "request timed out", slog.String("request_id", requestID(r)), slog.Any("error", err))
		s.writeError(w, r, http.StatusGatewayTimeout, codeTimeout,
			"the request took too long and was abandoned; try again, and if it keeps happening check GET /readyz and dbt Cloud's status page")
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer. 499 (nginx's
		// "client closed request") keeps these apart in logs and metrics.
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "client went away", slog.String("request_id", requestID(r)), slog.Any("error", err))
		w.WriteHeader(499)
	default:
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestID(r)), slog.String("route", r.Pattern), slog.Any("error", err))
		s.writeError(w, r, http.StatusInternalServerError, codeInternal,
			fmt.Sprintf("internal error; the server log has the details under request id %s", requestID(r)))
	}
}

// upstream answers an error from dbt Cloud: 404 stays 404 (the job or run
// does not exist there), anything else is a bad gateway, with dbt Cloud's
// status and message so the user can act on them.
func (s *Server) upstream(w http.ResponseWriter, r *http.Request, e *dbtcloud.APIError) {
	msg := fmt.Sprintf("dbt Cloud answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.UserMessage != "" {
		msg += ": " + e.UserMessage
	}
	if e.StatusCode == http.StatusNotFound {
		s.writeError(w, r, http.StatusNotFound, codeNotFound, msg)
		return
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += "; check the connection with POST /api/v1/connections/{name}/test"
	case http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf("; retry after %s", e.RetryAfter.Round(time.Second))
		}
	}
	if e.RequestID != "" {
		msg += fmt.Sprintf(" (dbt Cloud request id %s)", e.RequestID)
	}
	s.writeError(w, r, http.StatusBadGateway, codeUpstream, msg)
}

// decodeJSON reads one JSON object of at most MaxBodyBytes into v.
// Unknown fields are refused: a misspelt override (say "thread_override")
// would otherwise be dropped silently and the run started without it.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badRequest("the request body must hold one JSON object and nothing after it")
	}
	return nil
}

// describeJSONError turns a decoding error into a 400 that says where the
// body is wrong.
func describeJSONError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body ends in the middle of its JSON")
	case errors.As(err, &syn):
		return badRequest("the request body is not valid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object, not %s", typ.Value)
		}
		return badRequest("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	// encoding/json has no type for unknown fields; its message is
	// `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("unknown field %s in the request body; GET /api/v1/openapi.json lists the accepted fields", name)
	}
	return badRequest("the request body could not be read as JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON form a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}
