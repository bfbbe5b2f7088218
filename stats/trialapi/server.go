package trialapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rxprobe/rxprobe/rx/counters"
)

// Source gives the handler its samples. ShmSource is the real one.
type Source interface {
	// Sample asks the RX process for a sample and returns the snapshot
	// that answers the request: counters read after the call began.
	Sample(ctx context.Context) (*Sample, error)
	// Latest returns the newest snapshot without asking for one.
	Latest() (*Sample, error)
}

// DefaultMaxTrials is how many trials the handler keeps by default; the
// oldest stopped one goes first.
const DefaultMaxTrials = 1024

// SampleTimeout bounds how long a request waits for its sample.
const SampleTimeout = 5 * time.Second

// Options configure NewHandler.
type Options struct {
	// Token, when not empty, is the bearer token every request must carry
	// (Authorization: Bearer TOKEN); others get 401.
	Token string
	// MaxTrials bounds the trials kept (DefaultMaxTrials when 0).
	MaxTrials int
	// ProbeClock identifies the RX host's TSC: a trial's latency is valid
	// only when the generator clock given to its stop call matches.
	ProbeClock counters.HostClock
}

// StopRequest is the optional JSON body of POST /v1/trials/{id}/stop.
type StopRequest struct {
	// GeneratorClock is the "clock" of the generator's report (rxprobe gen
	// --report or a gen --serve reply). Without it, or from another host
	// or boot, the trial's latency is returned with valid false.
	GeneratorClock *counters.HostClock `json:"generator_clock,omitempty"`
}

// Trial is a trial as the API returns it.
type Trial struct {
	ID        string     `json:"id"`
	State     string     `json:"state"` // "running" or "stopped"
	StartedAt time.Time  `json:"started_at"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// StartSample and StopSample are the writer's sample counts at the
	// boundaries; StartRequest and StopRequest the requests they answer.
	StartSample  uint64  `json:"start_sample"`
	StartRequest uint32  `json:"start_request"`
	StopSample   uint64  `json:"stop_sample,omitempty"`
	StopRequest  uint32  `json:"stop_request,omitempty"`
	Result       *Result `json:"result,omitempty"`

	start *Sample
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
}

type handler struct {
	src   Source
	o     Options
	mu    sync.Mutex // the trials, and one sample at a time
	byID  map[string]*Trial
	order []string
}

// NewHandler returns the trial API: POST /v1/trials, POST
// /v1/trials/{id}/stop, GET /v1/trials/{id} and GET /v1/health, all JSON.
func NewHandler(src Source, o Options) http.Handler {
	if o.MaxTrials <= 0 {
		o.MaxTrials = DefaultMaxTrials
	}
	h := &handler{src: src, o: o, byID: map[string]*Trial{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/trials", h.start)
	mux.HandleFunc("POST /v1/trials/{id}/stop", h.stop)
	mux.HandleFunc("GET /v1/trials/{id}", h.get)
	mux.HandleFunc("GET /v1/health", h.health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{"no such endpoint: " + r.Method + " " + r.URL.Path + " (POST /v1/trials, POST /v1/trials/{id}/stop, GET /v1/trials/{id}, GET /v1/health)"})
	})
	if o.Token == "" {
		return mux
	}
	want := []byte("Bearer " + o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rxprobe trial API"`)
			writeJSON(w, http.StatusUnauthorized, apiError{"missing or wrong bearer token (Authorization: Bearer TOKEN)"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// sample takes an exact sample for a trial boundary.
func (h *handler) sample(r *http.Request) (*Sample, error) {
	ctx, cancel := context.WithTimeout(r.Context(), SampleTimeout)
	defer cancel()
	return h.src.Sample(ctx)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "t-" + hex.EncodeToString(b[:])
}

func (h *handler) start(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, err := h.sample(r)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, apiError{"no exact sample: " + err.Error()})
		return
	}
	t := &Trial{ID: newID(), State: "running", StartedAt: s.At, StartSample: s.Samples, StartRequest: s.Served, start: s}
	h.keep(t)
	writeJSON(w, http.StatusCreated, t)
}

// keep stores t, forgetting the oldest stopped trial (or the oldest) when
// full.
func (h *handler) keep(t *Trial) {
	if len(h.order) >= h.o.MaxTrials {
		drop := 0
		for i, id := range h.order {
			if h.byID[id].State == "stopped" {
				drop = i
				break
			}
		}
		delete(h.byID, h.order[drop])
		h.order = append(h.order[:drop], h.order[drop+1:]...)
	}
	h.byID[t.ID] = t
	h.order = append(h.order, t.ID)
}

func (h *handler) find(w http.ResponseWriter, r *http.Request) *Trial {
	id := r.PathValue("id")
	t, ok := h.byID[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{"no trial " + quote(id)})
		return nil
	}
	return t
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (h *handler) stop(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.find(w, r)
	if t == nil {
		return
	}
	var req StopRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, apiError{"stop body: " + err.Error() + `: send {"generator_clock": {"machine_id": ..., "boot_id": ..., "tsc_hz": ...}} or nothing`})
			return
		}
	}
	if t.State == "stopped" {
		writeJSON(w, http.StatusConflict, apiError{"trial " + t.ID + " is already stopped (GET /v1/trials/" + t.ID + " returns its result)"})
		return
	}
	s, err := h.sample(r)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, apiError{"no exact sample: " + err.Error()})
		return
	}
	if s.Schema.Prefix != t.start.Schema.Prefix || s.Schema.PID != t.start.Schema.PID {
		writeJSON(w, http.StatusConflict, apiError{"the RX process changed since the trial started (pid " + itoa(t.start.Schema.PID) + " → " + itoa(s.Schema.PID) + "): no delta"})
		return
	}
	at := s.At
	t.State, t.StoppedAt, t.StopSample, t.StopRequest = "stopped", &at, s.Samples, s.Served
	t.Result = Delta(t.start, s)
	judgeLatency(t.Result, req.GeneratorClock, &h.o.ProbeClock)
	t.start = nil
	writeJSON(w, http.StatusOK, t)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.find(w, r); t != nil {
		writeJSON(w, http.StatusOK, t)
	}
}

// Health is GET /v1/health's body.
type Health struct {
	Status  string  `json:"status"` // "ok"
	Prefix  string  `json:"prefix"`
	PID     int     `json:"pid"`
	Samples uint64  `json:"samples"`
	AgeS    float64 `json:"snapshot_age_s"`
	Running int     `json:"trials_running"`
}

func (h *handler) health(w http.ResponseWriter, _ *http.Request) {
	s, err := h.src.Latest()
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, apiError{"no snapshot: " + err.Error()})
		return
	}
	h.mu.Lock()
	running := 0
	for _, t := range h.byID {
		if t.State == "running" {
			running++
		}
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, Health{Status: "ok", Prefix: s.Schema.Prefix, PID: s.Schema.PID, Samples: s.Samples,
		AgeS: max(0, time.Since(s.At).Seconds()), Running: running})
}
