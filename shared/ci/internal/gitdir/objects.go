package gitdir

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Object types, as numbered in a pack.
const (
	typeCommit   = 1
	typeTree     = 2
	typeBlob     = 3
	typeTag      = 4
	typeOfsDelta = 6
	typeRefDelta = 7
)

var typeNames = map[string]int{"commit": typeCommit, "tree": typeTree, "blob": typeBlob, "tag": typeTag}

// maxObject bounds what is inflated for one object: commits and tags are
// small, and a checkout's file is no reason to hold a large blob.
const maxObject = 64 << 20

// maxChain bounds a delta chain.
const maxChain = 4096

// object reads the object h: its type and content, from the loose
// objects, then the packs. Alternates (objects/info/alternates) are not
// read: go-git, which package ci read the repository with before, did not
// find objects through them outside the git directory either.
func (r *Repo) object(h Hash) (int, []byte, error) {
	return readObject(filepath.Join(r.Dir, "objects"), h)
}

func readObject(objects string, h Hash) (int, []byte, error) {
	typ, data, err := readLooseObject(objects, h)
	if errors.Is(err, ErrNotFound) {
		typ, data, err = readPackedObject(objects, h)
	}
	return typ, data, err
}

func readLooseObject(objects string, h Hash) (int, []byte, error) {
	hex := h.String()
	f, err := os.Open(filepath.Join(objects, hex[:2], hex[2:]))
	if os.IsNotExist(err) {
		return 0, nil, fmt.Errorf("object %s: %w", hex, ErrNotFound)
	}
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	z, err := zlib.NewReader(bufio.NewReader(f))
	if err != nil {
		return 0, nil, fmt.Errorf("object %s: %w", hex, err)
	}
	defer z.Close()
	br := bufio.NewReader(io.LimitReader(z, maxObject+64))
	header, err := br.ReadString(0)
	if err != nil {
		return 0, nil, fmt.Errorf("object %s: header: %w", hex, err)
	}
	name, size, ok := strings.Cut(strings.TrimSuffix(header, "\x00"), " ")
	typ, known := typeNames[name]
	n, err := strconv.ParseInt(size, 10, 64)
	if !ok || !known || err != nil || n < 0 || n > maxObject {
		return 0, nil, fmt.Errorf("object %s: bad header %q", hex, header)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(br, data); err != nil {
		return 0, nil, fmt.Errorf("object %s: %w", hex, err)
	}
	return typ, data, nil
}

// readPackedObject finds h in the index of each pack (objects/pack/*.idx)
// and reads it from the pack beside it.
func readPackedObject(objects string, h Hash) (int, []byte, error) {
	idxs, err := filepath.Glob(filepath.Join(objects, "pack", "pack-*.idx"))
	if err != nil {
		return 0, nil, err
	}
	sort.Strings(idxs)
	for _, idx := range idxs {
		offset, err := findInIndex(idx, h)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		p, err := os.Open(strings.TrimSuffix(idx, ".idx") + ".pack")
		if err != nil {
			return 0, nil, err
		}
		defer p.Close()
		pr := &pack{f: p, objects: objects, idx: idx}
		return pr.read(offset, 0)
	}
	return 0, nil, fmt.Errorf("object %s: %w", h, ErrNotFound)
}

// findInIndex returns the offset of h in a pack index (version 2, or the
// original version without a header).
func findInIndex(path string, h Hash) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var head [8]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	v2 := bytes.Equal(head[:4], []byte{0xff, 't', 'O', 'c'})
	base := int64(0)
	if v2 {
		if binary.BigEndian.Uint32(head[4:]) != 2 {
			return 0, fmt.Errorf("%s: index version %d", path, binary.BigEndian.Uint32(head[4:]))
		}
		base = 8
	}
	var fanout [256 * 4]byte
	if _, err := f.ReadAt(fanout[:], base); err != nil {
		return 0, fmt.Errorf("%s: fan-out: %w", path, err)
	}
	count := int64(binary.BigEndian.Uint32(fanout[255*4:]))
	lo := int64(0)
	if h[0] > 0 {
		lo = int64(binary.BigEndian.Uint32(fanout[(int(h[0])-1)*4:]))
	}
	hi := int64(binary.BigEndian.Uint32(fanout[int(h[0])*4:]))
	if lo > hi || hi > count {
		return 0, fmt.Errorf("%s: bad fan-out", path)
	}
	tables := base + 256*4
	entry := int64(20) // v2: the names' table
	if !v2 {
		entry = 24 // v1: offset then name
	}
	var name Hash
	for lo < hi {
		mid := lo + (hi-lo)/2
		at := tables + mid*entry
		if !v2 {
			at += 4
		}
		if _, err := f.ReadAt(name[:], at); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		switch c := bytes.Compare(h[:], name[:]); {
		case c < 0:
			hi = mid
		case c > 0:
			lo = mid + 1
		default:
			return indexOffset(f, path, v2, tables, count, mid)
		}
	}
	return 0, fmt.Errorf("object %s: %w", h, ErrNotFound)
}

func indexOffset(f *os.File, path string, v2 bool, tables, count, i int64) (int64, error) {
	var b [8]byte
	if !v2 {
		if _, err := f.ReadAt(b[:4], tables+i*24); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		return int64(binary.BigEndian.Uint32(b[:4])), nil
	}
	offsets := tables + count*20 + count*4
	if _, err := f.ReadAt(b[:4], offsets+i*4); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	off := binary.BigEndian.Uint32(b[:4])
	if off&0x80000000 == 0 {
		return int64(off), nil
	}
	large := offsets + count*4 + int64(off&0x7fffffff)*8
	if _, err := f.ReadAt(b[:], large); err != nil {
		return 0, fmt.Errorf("%s: large offset: %w", path, err)
	}
	return int64(binary.BigEndian.Uint64(b[:]) & (1<<63 - 1)), nil
}

type pack struct {
	f       *os.File
	objects string
	idx     string
}

// read reads the object at offset, resolving its deltas.
func (p *pack) read(offset int64, chain int) (int, []byte, error) {
	if chain > maxChain {
		return 0, nil, fmt.Errorf("%s: delta chain too long", p.f.Name())
	}
	br := bufio.NewReader(io.NewSectionReader(p.f, offset, 1<<62))
	c, err := br.ReadByte()
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
	}
	typ := int(c>>4) & 7
	size := int64(c & 15)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if c, err = br.ReadByte(); err != nil || shift > 56 {
			return 0, nil, fmt.Errorf("%s at %d: bad object header", p.f.Name(), offset)
		}
		size |= int64(c&0x7f) << shift
	}
	if size > maxObject {
		return 0, nil, fmt.Errorf("%s at %d: object of %d bytes", p.f.Name(), offset, size)
	}
	var baseType int
	var base []byte
	switch typ {
	case typeCommit, typeTree, typeBlob, typeTag:
	case typeOfsDelta:
		c, err := br.ReadByte()
		if err != nil {
			return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
		}
		back := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, err = br.ReadByte(); err != nil || back > 1<<55 {
				return 0, nil, fmt.Errorf("%s at %d: bad delta offset", p.f.Name(), offset)
			}
			back = (back+1)<<7 | int64(c&0x7f)
		}
		if back <= 0 || back > offset {
			return 0, nil, fmt.Errorf("%s at %d: delta base out of the pack", p.f.Name(), offset)
		}
		if baseType, base, err = p.read(offset-back, chain+1); err != nil {
			return 0, nil, err
		}
	case typeRefDelta:
		var h Hash
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
		}
		if off, err := findInIndex(p.idx, h); err == nil {
			baseType, base, err = p.read(off, chain+1)
			if err != nil {
				return 0, nil, err
			}
		} else if baseType, base, err = readObject(p.objects, h); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, fmt.Errorf("%s at %d: object type %d", p.f.Name(), offset, typ)
	}
	z, err := zlib.NewReader(br)
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
	}
	defer z.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(z, data); err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
	}
	if typ != typeOfsDelta && typ != typeRefDelta {
		return typ, data, nil
	}
	out, err := applyDelta(base, data)
	if err != nil {
		return 0, nil, fmt.Errorf("%s at %d: %w", p.f.Name(), offset, err)
	}
	return baseType, out, nil
}

// applyDelta applies a git delta (base size, result size, then copy and
// insert instructions) to base.
func applyDelta(base, delta []byte) ([]byte, error) {
	d := bytes.NewReader(delta)
	srcSize, err := binary.ReadUvarint(d)
	if err != nil || srcSize != uint64(len(base)) {
		return nil, errors.New("delta: base size does not match")
	}
	dstSize, err := binary.ReadUvarint(d)
	if err != nil || dstSize > maxObject {
		return nil, errors.New("delta: bad result size")
	}
	out := make([]byte, 0, dstSize)
	for d.Len() > 0 {
		op, _ := d.ReadByte()
		switch {
		case op&0x80 != 0:
			off, err := deltaBytes(d, op, 0, 4)
			if err != nil {
				return nil, err
			}
			n, err := deltaBytes(d, op, 4, 3)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || uint64(len(out))+n > dstSize {
				return nil, errors.New("delta: copy out of range")
			}
			out = append(out, base[off:off+n]...)
		case op != 0:
			if int(op) > d.Len() || uint64(len(out))+uint64(op) > dstSize {
				return nil, errors.New("delta: truncated insert")
			}
			chunk := make([]byte, op)
			d.Read(chunk)
			out = append(out, chunk...)
		default:
			return nil, errors.New("delta: reserved instruction 0")
		}
	}
	if uint64(len(out)) != dstSize {
		return nil, errors.New("delta: result size does not match")
	}
	return out, nil
}

// deltaBytes reads a copy instruction's offset (bits 0-3 of op) or size
// (bits 4-6): a little-endian number of which only the bytes whose bit is
// set are stored.
func deltaBytes(d *bytes.Reader, op byte, first, n int) (uint64, error) {
	var v uint64
	for i := range n {
		if op&(1<<(first+i)) != 0 {
			b, err := d.ReadByte()
			if err != nil {
				return 0, errors.New("delta: truncated copy")
			}
			v |= uint64(b) << (8 * i)
		}
	}
	return v, nil
}
