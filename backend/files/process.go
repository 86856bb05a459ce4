package files

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	_ "golang.org/x/image/webp" // decode WebP (stored re-encoded as PNG)

	"switchboard/backend/protocol"
)

// maxPixels bounds an image's decoded size (a small file may claim a huge
// canvas).
const maxPixels = 50_000_000

// refusal is an upload refused for what it is, with its protocol code.
type refusal struct {
	code protocol.Code
	msg  string
}

func (r *refusal) Error() string { return r.msg }

func refuse(code protocol.Code, format string, args ...any) error {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

// processed is a file ready to store: the bytes in a temporary file.
type processed struct {
	file          *os.File
	size          int64
	mime          string
	width, height int
}

// sniff reads a file's type from its bytes, without its parameters
// (charset).
func sniff(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	m, err := mimetype.DetectReader(f)
	if err != nil {
		return "", err
	}
	t, _, _ := strings.Cut(m.String(), ";")
	return strings.TrimSpace(t), nil
}

// process sniffs a spooled upload, refuses a type not allowed, and
// re-encodes images: decoding and encoding again keeps the pixels and drops
// everything else (EXIF with its GPS position, comments, profiles).
func process(in *os.File, size int64, allowed []string, tmpDir string) (*processed, error) {
	t, err := sniff(in)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(allowed, t) {
		return nil, refuse(protocol.CodeFileType, "files of type %s are not accepted here", t)
	}
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return reencode(in, t, tmpDir)
	}
	return &processed{file: in, size: size, mime: t}, nil
}

func reencode(in *os.File, t, tmpDir string) (*processed, error) {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bufio.NewReader(in))
	if err != nil {
		return nil, refuse(protocol.CodeFileType, "the image cannot be read: %v", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, refuse(protocol.CodeTooLarge, "an image of %d×%d pixels is too large", cfg.Width, cfg.Height)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(tmpDir, "reencoded-*")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(out)
	if t == "image/gif" {
		err = reencodeGIF(in, w)
	} else {
		var img image.Image
		img, _, err = image.Decode(bufio.NewReader(in))
		switch {
		case err != nil:
			err = refuse(protocol.CodeFileType, "the image cannot be read: %v", err)
		case t == "image/jpeg":
			err = jpeg.Encode(w, img, &jpeg.Options{Quality: 90})
		default: // PNG, and WebP (which the standard library cannot write)
			t = "image/png"
			err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(w, img)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	n, err := out.Seek(0, io.SeekCurrent)
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	return &processed{file: out, size: n, mime: t, width: cfg.Width, height: cfg.Height}, nil
}

func reencodeGIF(in io.Reader, w io.Writer) error {
	g, err := gif.DecodeAll(bufio.NewReader(in))
	if err != nil {
		return refuse(protocol.CodeFileType, "the image cannot be read: %v", err)
	}
	if int64(g.Config.Width)*int64(g.Config.Height)*int64(len(g.Image)) > 4*maxPixels {
		return refuse(protocol.CodeTooLarge, "an animation of %d frames is too large", len(g.Image))
	}
	return gif.EncodeAll(w, &gif.GIF{Image: g.Image, Delay: g.Delay, LoopCount: g.LoopCount, Disposal: g.Disposal,
		Config: g.Config, BackgroundIndex: g.BackgroundIndex})
}

// extensions are each stored type's usual file name endings, first the
// one a name gets when it has none of them.
var extensions = map[string][]string{
	"image/png":       {".png"},
	"image/jpeg":      {".jpg", ".jpeg", ".jpe"},
	"image/gif":       {".gif"},
	"application/pdf": {".pdf"},
	"text/plain":      {".txt", ".log", ".md", ".text"},
	"text/csv":        {".csv"},
}

// activeExt are name endings that make a browser or desktop run a file.
var activeExt = []string{".html", ".htm", ".xhtml", ".svg", ".svgz", ".js", ".mjs", ".xml", ".exe", ".bat", ".cmd", ".sh", ".hta"}

// CleanName makes a file's name safe to show and to offer for saving: the
// last path element, without control characters, at most MaxFileName
// bytes, and ending as the sniffed type does (a PNG named .pdf becomes
// .png; a text file named .html becomes .txt).
func CleanName(name, mimeType string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.ToValidUTF8(name, ""))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.Trim(name, "."))
	if name == "" || name == "/" {
		name = "file"
	}
	ext := strings.ToLower(path.Ext(name))
	want := extensions[mimeType]
	if want == nil {
		if e := mimetype.Lookup(mimeType); e != nil && e.Extension() != "" {
			want = []string{e.Extension()}
		}
	}
	keep := slices.Contains(want, ext) ||
		(strings.HasPrefix(mimeType, "text/") && ext != "" && !slices.Contains(activeExt, ext) && !isKnownOther(ext, mimeType))
	if !keep && len(want) > 0 {
		name = strings.TrimSuffix(name, path.Ext(name)) + want[0]
	}
	for len(name) > protocol.MaxFileName {
		_, size := utf8.DecodeLastRuneInString(strings.TrimSuffix(name, path.Ext(name)))
		base := strings.TrimSuffix(name, path.Ext(name))
		if len(base) <= size {
			name = name[len(name)-protocol.MaxFileName:]
			break
		}
		name = base[:len(base)-size] + path.Ext(name)
	}
	return name
}

// isKnownOther: the ending belongs to another stored type (a text file
// named .pdf gets .txt).
func isKnownOther(ext, mimeType string) bool {
	for t, exts := range extensions {
		if t != mimeType && slices.Contains(exts, ext) {
			return true
		}
	}
	return false
}

var errTooLarge = errors.New("too large")
