// Package config holds the desktop app's settings. One viper instance (never
// the global) merges, from lowest to highest precedence: defaults, the
// machine-wide file an administrator deploys, the user's own file, the
// SWITCHBOARD_* environment and the command-line flags. The machine-wide
// file may lock keys: a locked key keeps the machine value whatever the
// user, the environment or a flag says, and Set refuses to change it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/spf13/viper"
)

// Keys.
const (
	KeyServer      = "server"       // relay address, ws(s)://host[:port][/ws]
	KeyLanguage    = "language"     // auto, en, sv
	KeyMuted       = "muted"        // no sound or pop-up for waiting chats and warnings
	KeyStartHidden = "start_hidden" // start in the tray (the --hidden flag)
	KeyRemember    = "remember"     // keep the agent's token to sign in again
	KeyLogin       = "login"        // the last login name, to prefill the form
	KeyLocked      = "locked"       // machine file only: keys the user may not change
)

// keys lists every setting with its default.
var keys = map[string]any{
	KeyServer: "", KeyLanguage: "auto", KeyMuted: false,
	KeyStartHidden: false, KeyRemember: false, KeyLogin: "",
}

// Languages the UI speaks; "auto" follows the system.
var Languages = []string{"auto", "en", "sv"}

// EnvPrefix prefixes the environment variables: SWITCHBOARD_SERVER, ...
const EnvPrefix = "SWITCHBOARD"

// EnvMachineDir overrides where the machine-wide file is looked for (tests,
// portable installs).
const EnvMachineDir = "SWITCHBOARD_MACHINE_CONFIG_DIR"

// File names.
const (
	UserFile    = "config.yaml"
	MachineFile = "app.yaml"
)

// Errors.
var (
	ErrLocked     = errors.New("this setting is locked by your administrator")
	ErrUnknownKey = errors.New("unknown setting")
)

// Settings is the merged view.
type Settings struct {
	Server      string `mapstructure:"server"`
	Language    string `mapstructure:"language"`
	Muted       bool   `mapstructure:"muted"`
	StartHidden bool   `mapstructure:"start_hidden"`
	Remember    bool   `mapstructure:"remember"`
	Login       string `mapstructure:"login"`
}

// Options say where to look. Zero values pick the platform's places.
type Options struct {
	UserDir    string            // holds config.yaml; "" = os.UserConfigDir()/Switchboard
	MachineDir string            // holds app.yaml; "" = $SWITCHBOARD_MACHINE_CONFIG_DIR or DefaultMachineDir()
	Flags      map[string]string // flags given on the command line, by key
	Logger     *slog.Logger
}

// Config is the loaded configuration; safe for concurrent use.
type Config struct {
	mu       sync.Mutex
	v        *viper.Viper
	locked   map[string]bool
	userDir  string
	userPath string
	log      *slog.Logger
	// seen holds, per key, the user file's value as this process last read
	// or wrote it: Refresh adopts only what another window wrote since, so
	// a value given on the command line stays until the file changes.
	seen map[string]string
}

// DefaultMachineDir is where administrators put app.yaml on this OS.
func DefaultMachineDir() string {
	switch runtime.GOOS {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "Switchboard")
	case "darwin":
		return "/Library/Application Support/Switchboard"
	default:
		return "/etc/switchboard"
	}
}

// DefaultUserDir is os.UserConfigDir()/Switchboard.
func DefaultUserDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "Switchboard"), nil
}

// Load reads both files (a missing file is fine) and applies env and flags.
func Load(o Options) (*Config, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.UserDir == "" {
		d, err := DefaultUserDir()
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		o.UserDir = d
	}
	if o.MachineDir == "" {
		o.MachineDir = os.Getenv(EnvMachineDir)
	}
	if o.MachineDir == "" {
		o.MachineDir = DefaultMachineDir()
	}
	c := &Config{v: viper.New(), locked: map[string]bool{}, userDir: o.UserDir,
		userPath: filepath.Join(o.UserDir, UserFile), log: log, seen: map[string]string{}}
	v := c.v
	for k, def := range keys {
		v.SetDefault(k, def)
	}
	v.SetConfigType("yaml")

	// The machine file first, then the user's merged over it.
	machinePath := filepath.Join(o.MachineDir, MachineFile)
	machine, err := readFile(machinePath)
	if err != nil {
		return nil, err
	}
	var lockedKeys []string
	if machine != nil {
		v.SetConfigFile(machinePath)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: %s: %w", machinePath, err)
		}
		lockedKeys = machine.GetStringSlice(KeyLocked)
	}
	// Windows: the registry values the MSI writes, over app.yaml.
	reg, err := readMachineRegistry()
	if err != nil {
		log.Warn("machine settings in the registry unreadable", "err", err)
	}
	if regSettings, regLocked := machinePolicy(reg); len(regSettings) > 0 || len(regLocked) > 0 {
		if machine == nil {
			machine = viper.New()
		}
		if err := machine.MergeConfigMap(regSettings); err != nil {
			return nil, fmt.Errorf("config: registry: %w", err)
		}
		if err := v.MergeConfigMap(regSettings); err != nil {
			return nil, fmt.Errorf("config: registry: %w", err)
		}
		lockedKeys = append(lockedKeys, regLocked...)
	}
	for _, k := range lockedKeys {
		if _, ok := keys[k]; ok {
			c.locked[k] = true
		} else {
			log.Warn("machine config locks an unknown key", "key", k, "file", machinePath)
		}
	}
	if user, err := readFile(c.userPath); err != nil {
		return nil, err
	} else if user != nil {
		for k := range keys {
			if user.IsSet(k) {
				c.seen[k] = user.GetString(k)
			}
		}
		v.SetConfigFile(c.userPath)
		if err := v.MergeInConfig(); err != nil {
			return nil, fmt.Errorf("config: %s: %w", c.userPath, err)
		}
	}

	v.SetEnvPrefix(EnvPrefix)
	v.AutomaticEnv() // the defaults above make every key known to Unmarshal
	for k, val := range o.Flags {
		if _, ok := keys[k]; !ok {
			return nil, fmt.Errorf("config: flag for unknown key %q", k)
		}
		if err := v.BindFlagValue(k, flagValue{name: k, value: val}); err != nil {
			return nil, err
		}
	}

	// Locked keys: the machine value beats everything (Set is the top layer).
	for k := range c.locked {
		val := keys[k]
		if machine.IsSet(k) {
			val = machine.Get(k)
		}
		if env := os.Getenv(EnvPrefix + "_" + envKey(k)); env != "" {
			log.Warn("ignoring the environment for a locked setting", "key", k)
		}
		if _, ok := o.Flags[k]; ok {
			log.Warn("ignoring a flag for a locked setting", "key", k)
		}
		v.Set(k, val)
	}
	return c, nil
}

// readFile reads one YAML file into its own viper, or returns nil when the
// file does not exist.
func readFile(path string) (*viper.Viper, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f := viper.New()
	f.SetConfigFile(path)
	f.SetConfigType("yaml")
	if err := f.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return f, nil
}

func envKey(k string) string {
	b := []byte(k)
	for i, ch := range b {
		if ch >= 'a' && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

// Settings returns the merged settings.
func (c *Config) Settings() Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s Settings
	if err := c.v.Unmarshal(&s); err != nil {
		c.log.Warn("config: settings unreadable; using defaults", "err", err)
		s = Settings{Language: "auto"}
	}
	if !slices.Contains(Languages, s.Language) {
		s.Language = "auto"
	}
	return s
}

// Locked reports whether the administrator locked key.
func (c *Config) Locked(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.locked[key]
}

// UserDir is the directory of the user's file (and the token file).
func (c *Config) UserDir() string { return c.userDir }

// Set changes one setting for this run and writes it to the user's file.
// Locked keys are refused with ErrLocked.
func (c *Config) Set(key string, value any) error {
	if _, ok := keys[key]; !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locked[key] {
		return ErrLocked
	}
	// Only the user's own file is rewritten, with only what it held plus
	// this key: defaults and machine values stay out of it.
	u, err := readFile(c.userPath)
	if err != nil {
		return err
	}
	if u == nil {
		u = viper.New()
		u.SetConfigType("yaml")
	}
	u.Set(key, value)
	if err := os.MkdirAll(c.userDir, 0o700); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := u.WriteConfigAs(c.userPath); err != nil {
		return fmt.Errorf("config: write %s: %w", c.userPath, err)
	}
	// Set is viper's top layer: what the user just chose wins for this run,
	// over env and flags too.
	c.v.Set(key, value)
	c.seen[key] = fmt.Sprint(value)
	return nil
}

// flagValue adapts one command-line value for viper.BindFlagValue.
type flagValue struct{ name, value string }

func (f flagValue) HasChanged() bool    { return true }
func (f flagValue) Name() string        { return f.name }
func (f flagValue) ValueString() string { return f.value }
func (f flagValue) ValueType() string {
	if _, ok := keys[f.name].(bool); ok {
		return "bool"
	}
	return "string"
}

// Refresh rereads one setting from the user's file, which another window of
// this profile may have written since, and adopts it for this run as Set
// does. It reports the value and whether it changed; a locked key, a file
// without the key or one that cannot be read change nothing.
func (c *Config) Refresh(key string) (value string, changed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	value = c.v.GetString(key)
	if c.locked[key] {
		return value, false
	}
	u, err := readFile(c.userPath)
	if err != nil || u == nil || !u.IsSet(key) {
		return value, false
	}
	got := u.GetString(key)
	if prev, ok := c.seen[key]; ok && prev == got {
		return value, false // nobody wrote it since
	}
	c.seen[key] = got
	if got != value {
		c.v.Set(key, got)
		return got, true
	}
	return value, false
}
