package wrapper

import "testing"

func TestUUID5(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	tests := []struct {
		ns   [16]byte
		name string
		want string
	}{
		// Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
		{dns, "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
		// Python's uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/gitship/gitship/steps/lint").
		{urlNamespace, "https://github.com/gitship/gitship/steps/lint", "82f14f26-3b1e-5b7c-898c-7ccf5e36afba"},
	}
	for _, tt := range tests {
		if got := uuid5(tt.ns, tt.name); got != tt.want {
			t.Errorf("uuid5(%x, %q) = %s, want %s", tt.ns, tt.name, got, tt.want)
		}
	}
}
