package vlogs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// The write-ahead log: segment files wal/NNNNNNNNNNNNNNNNNNNN.log, each a
// sequence of frames
//
//	u32 payload length | u32 CRC-32C of the payload | payload
//
// (little endian). A payload is one batch of rows:
//
//	uvarint rows, then per row: varint time (Unix ns), uvarint stream
//	fields, uvarint fields, then per field: uvarint name length, name,
//	uvarint value length, value.
//
// A crash can leave a torn last frame; reading stops at the first frame
// that is short or whose checksum does not match, and everything before
// it is good (each frame was fsynced before its batch was acknowledged).

// walRow is one row of a batch: what LogRows.MustAdd takes.
type walRow struct {
	Time    int64
	Streams int
	Fields  []logsql.Field
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxFrame bounds a frame's payload: a batch larger than this is refused
// before it is written (appends are 10 MiB bodies at most).
const maxFrame = 256 << 20

// appendFrame appends the frame of rows to dst.
func appendFrame(dst []byte, rows []walRow) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, 8)...)
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	for _, r := range rows {
		dst = binary.AppendVarint(dst, r.Time)
		dst = binary.AppendUvarint(dst, uint64(r.Streams))
		dst = binary.AppendUvarint(dst, uint64(len(r.Fields)))
		for _, f := range r.Fields {
			dst = binary.AppendUvarint(dst, uint64(len(f.Name)))
			dst = append(dst, f.Name...)
			dst = binary.AppendUvarint(dst, uint64(len(f.Value)))
			dst = append(dst, f.Value...)
		}
	}
	payload := dst[start+8:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, crcTable))
	return dst
}

// errTorn is a frame cut short or damaged: the end of what was written.
var errTorn = errors.New("torn frame")

// readFrame reads one frame; io.EOF at a clean end, errTorn at a torn or
// damaged one.
func readFrame(r *bufio.Reader) ([]walRow, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
		return nil, io.EOF
	} else if err != nil {
		return nil, errTorn
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n > maxFrame {
		return nil, errTorn
	}
	// Read what is there rather than allocate what a damaged length
	// claims.
	payload, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil || len(payload) != int(n) {
		return nil, errTorn
	}
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
		return nil, errTorn
	}
	rows, err := decodePayload(payload)
	if err != nil {
		// A checksum that matches over a payload that does not parse was
		// not written by appendFrame.
		return nil, fmt.Errorf("%w: %v", errTorn, err)
	}
	return rows, nil
}

// decodePayload parses a frame's payload.
func decodePayload(p []byte) ([]walRow, error) {
	errShort := errors.New("payload cut short")
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errShort
		}
		p = p[n:]
		return v, nil
	}
	str := func() (string, error) {
		n, err := uv()
		if err != nil {
			return "", err
		}
		if n > uint64(len(p)) {
			return "", errShort
		}
		s := string(p[:n])
		p = p[n:]
		return s, nil
	}
	nrows, err := uv()
	if err != nil {
		return nil, err
	}
	// Every row takes at least 3 bytes: a count beyond is a lie.
	if nrows > uint64(len(p))/3 {
		return nil, errShort
	}
	rows := make([]walRow, 0, nrows)
	for range nrows {
		var r walRow
		t, n := binary.Varint(p)
		if n <= 0 {
			return nil, errShort
		}
		p = p[n:]
		r.Time = t
		streams, err := uv()
		if err != nil {
			return nil, err
		}
		nf, err := uv()
		if err != nil {
			return nil, err
		}
		if streams > nf || nf > uint64(len(p))/2 {
			return nil, errors.New("bad field count")
		}
		r.Streams = int(streams)
		r.Fields = make([]logsql.Field, 0, nf)
		for range nf {
			name, err := str()
			if err != nil {
				return nil, err
			}
			value, err := str()
			if err != nil {
				return nil, err
			}
			r.Fields = append(r.Fields, logsql.Field{Name: name, Value: value})
		}
		rows = append(rows, r)
	}
	if len(p) != 0 {
		return nil, errors.New("bytes after the last row")
	}
	return rows, nil
}

// readSegment calls fn with each good frame of the segment at path; a
// torn end is not an error.
func readSegment(path string, fn func([]walRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		rows, err := readFrame(r)
		if err == io.EOF || errors.Is(err, errTorn) {
			return nil
		}
		if err := fn(rows); err != nil {
			return err
		}
	}
}

// wal is the open log: the segment being written and the older ones.
// Its methods are called under the engine's append lock; segment.sync
// is not, so that appends that wait for the disk share one fsync.
type wal struct {
	dir string
	cur *segment
	seq uint64
	buf []byte
}

// segment is one log file. Writers sync it after their write; the
// rotation that closes it syncs it first and keeps the outcome, so that
// a writer whose file was closed meanwhile learns whether its frame is on
// disk.
type segment struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
	err    error // of the closing sync
}

// sync makes every frame written to the segment so far durable.
func (s *segment) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err
	}
	return s.f.Sync()
}

// close syncs and closes the segment.
func (s *segment) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.err
	}
	s.closed = true
	s.err = s.f.Sync()
	if err := s.f.Close(); s.err == nil {
		s.err = err
	}
	return s.err
}

func segmentName(seq uint64) string { return fmt.Sprintf("%020d.log", seq) }

// segments lists the segment sequence numbers in dir, oldest first.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			seqs = append(seqs, n)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// openWAL starts a new segment after the existing ones of dir.
func openWAL(dir string, after uint64) (*wal, error) {
	w := &wal{dir: dir, seq: after}
	if err := w.next(); err != nil {
		return nil, err
	}
	return w, nil
}

// next closes the current segment (syncing it) and starts the next one.
func (w *wal) next() error {
	if w.cur != nil {
		if err := w.cur.close(); err != nil {
			return err
		}
		w.cur = nil
	}
	w.seq++
	f, err := os.OpenFile(filepath.Join(w.dir, segmentName(w.seq)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	w.cur = &segment{f: f}
	return nil
}

// write appends the frame of rows to the current segment and returns
// it; the caller syncs it before it acknowledges the rows.
func (w *wal) write(rows []walRow) (*segment, error) {
	if w.cur == nil {
		return nil, errors.New("the log has no open segment")
	}
	w.buf = appendFrame(w.buf[:0], rows)
	if len(w.buf)-8 > maxFrame {
		return nil, fmt.Errorf("a batch of %d bytes is over the %d bytes one append may take", len(w.buf), maxFrame)
	}
	seg := w.cur
	if _, err := seg.f.Write(w.buf); err != nil {
		// The segment may hold part of the frame: a later frame would
		// follow a torn one and be lost at replay. Start anew.
		w.next()
		return nil, err
	}
	if cap(w.buf) > 16<<20 {
		w.buf = nil
	}
	return seg, nil
}

func (w *wal) close() error {
	if w.cur == nil {
		return nil
	}
	err := w.cur.close()
	w.cur = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
