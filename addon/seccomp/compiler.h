// Seccomp profile -> classic BPF. Pure C++ (no N-API), so a plain g++ harness can
// drive it too. The input is the compact form src/seccomp/encode.ts writes: names
// are already numbers per architecture and runc's rule semantics (redundant rules,
// unconditional rules overriding conditional ones, socketcall multiplexing) are
// already applied, so this file only has to produce a correct and compact program.
//
// Program shape:
//   ld arch; jeq AUDIT_ARCH_0 -> S0; jeq AUDIT_ARCH_1 -> S1; ...; ret badarch
//   Sn: ld nr; binary search tree of jge over the syscall-number segments;
//       leaves return, or run the argument rules of one syscall.
// The whole 32-bit number space of a section is cut into segments whose outcome is
// the same (a syscall's rules, the default action, runc's -ENOSYS for numbers past
// the profile's last syscall, the bad-arch action for the wrong x86 ABI), so the
// x32 and -ENOSYS checks cost no instructions of their own.
//
// Emission runs back to front: every jump in cBPF goes forward, so a target has
// always been placed when a jump to it is emitted, and its distance is known.
// Conditional jumps reach 255 instructions; further targets get a nearby copy of
// a `ret` or a `ja` trampoline.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace ocirt_seccomp {

constexpr uint32_t kMagic = 0x4643534f;  // "OSCF" little-endian
constexpr uint32_t kInputVersion = 1;
constexpr size_t kMaxInsns = 4096;        // BPF_MAXINSNS
constexpr uint32_t kX32Bit = 0x40000000;

// Classic BPF opcodes (linux/bpf_common.h).
constexpr uint16_t LD_W_ABS = 0x20;
constexpr uint16_t ALU_AND_K = 0x54;
constexpr uint16_t JMP_JA = 0x05;
constexpr uint16_t JMP_JEQ_K = 0x15;
constexpr uint16_t JMP_JGT_K = 0x25;
constexpr uint16_t JMP_JGE_K = 0x35;
constexpr uint16_t RET_K = 0x06;

// struct seccomp_data offsets.
constexpr uint32_t kOffNr = 0;
constexpr uint32_t kOffArch = 4;
constexpr uint32_t kOffArgs = 16;

// Operators, numbered as libseccomp's enum scmp_compare.
enum Op : uint32_t { NE = 1, LT = 2, LE = 3, EQ = 4, GE = 5, GT = 6, MASKED_EQ = 7 };

// Section kinds: how x86_64 and x32, which share AUDIT_ARCH_X86_64, are told apart.
enum Kind : uint32_t { PLAIN = 0, X86_64_ONLY = 1, X32_ONLY = 2, X86_64_AND_X32 = 3 };

struct Insn {  // layout of struct sock_filter
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
static_assert(sizeof(Insn) == 8, "sock_filter is 8 bytes");

struct Cond {
  uint32_t index;
  uint32_t op;
  uint64_t a;  // value; the mask for MASKED_EQ
  uint64_t b;  // the datum for MASKED_EQ
};
struct Rule {
  uint32_t action;
  std::vector<Cond> conds;
};
struct Syscall {
  uint32_t nr;
  bool wide;    // compare all 64 bits of arguments (64-bit ABI)
  bool uncond;  // action applies whatever the arguments
  uint32_t action;
  std::vector<Rule> rules;  // in order; the first that matches decides
};
struct Section {
  uint32_t auditArch;
  uint32_t kind;
  bool bigEndian;
  bool enosys;    // runc's stub: numbers past the last known syscall get enosysAction
  uint32_t maxA;  // last syscall number of the (x86_64 or only) ABI, 0 = none
  uint32_t maxB;  // last x32 syscall number in an X86_64_AND_X32 section, 0 = none
  std::vector<Syscall> syscalls;  // ascending nr
};
struct Filter {
  uint32_t defaultAction;
  uint32_t badArchAction;
  uint32_t enosysAction;
  std::vector<Section> sections;
};

// ---------------------------------------------------------------------------
// Input decoding: little-endian u32 words, every count checked against the bytes
// left so that a corrupt buffer is an error, never a huge allocation or a crash.

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool u32(uint32_t& v) {
    v = 0;
    if (off_ > n_ || n_ - off_ < 4) return fail("truncated input");
    v = uint32_t(p_[off_]) | uint32_t(p_[off_ + 1]) << 8 | uint32_t(p_[off_ + 2]) << 16 | uint32_t(p_[off_ + 3]) << 24;
    off_ += 4;
    return true;
  }
  bool u64(uint64_t& v) {
    uint32_t lo = 0, hi = 0;
    v = 0;
    if (!u32(lo) || !u32(hi)) return false;
    v = uint64_t(hi) << 32 | lo;
    return true;
  }
  // A count of items of at least minBytes each must fit in what is left.
  bool count(uint32_t& v, size_t minBytes) {
    if (!u32(v)) return false;
    if (minBytes && uint64_t(v) * minBytes > n_ - off_) return fail("count larger than the input");
    return true;
  }
  bool fail(const char* why) {
    if (err_.empty()) err_ = std::string(why) + " at byte " + std::to_string(off_);
    return false;
  }
  bool atEnd() const { return off_ == n_; }
  const std::string& error() const { return err_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
  std::string err_;
};

inline bool Parse(const uint8_t* data, size_t len, Filter& f, std::string& err) {
  Reader r(data, len);
  auto bad = [&](const char* why) {
    r.fail(why);
    err = r.error();
    return false;
  };
  uint32_t magic, version, nSections;
  if (!r.u32(magic) || !r.u32(version)) return bad("truncated header");
  if (magic != kMagic) return bad("not a seccomp compiler input (bad magic)");
  if (version != kInputVersion) return bad("input version mismatch (stale addon build?)");
  if (!r.u32(f.defaultAction) || !r.u32(f.badArchAction) || !r.u32(f.enosysAction) || !r.count(nSections, 28)) {
    err = r.error();
    return false;
  }
  if (nSections == 0) return bad("no architecture sections");
  f.sections.resize(nSections);
  for (Section& s : f.sections) {
    uint32_t bigEndian, enosys, nSyscalls;
    if (!r.u32(s.auditArch) || !r.u32(s.kind) || !r.u32(bigEndian) || !r.u32(enosys) || !r.u32(s.maxA) || !r.u32(s.maxB) ||
        !r.count(nSyscalls, 16)) {
      err = r.error();
      return false;
    }
    if (s.kind > X86_64_AND_X32) return bad("unknown section kind");
    s.bigEndian = bigEndian != 0;
    s.enosys = enosys != 0;
    s.syscalls.resize(nSyscalls);
    for (size_t i = 0; i < s.syscalls.size(); i++) {
      Syscall& sc = s.syscalls[i];
      uint32_t flags, nRules;
      if (!r.u32(sc.nr) || !r.u32(flags) || !r.u32(sc.action) || !r.count(nRules, 8)) {
        err = r.error();
        return false;
      }
      if (i > 0 && sc.nr <= s.syscalls[i - 1].nr) return bad("syscall numbers not strictly ascending");
      sc.wide = flags & 1;
      sc.uncond = flags & 2;
      if (sc.uncond != (nRules == 0)) return bad("a syscall has either an unconditional action or rules");
      sc.rules.resize(nRules);
      for (Rule& rule : sc.rules) {
        uint32_t nConds;
        if (!r.u32(rule.action) || !r.count(nConds, 24)) {
          err = r.error();
          return false;
        }
        if (nConds == 0) return bad("a rule without conditions");
        rule.conds.resize(nConds);
        for (Cond& c : rule.conds) {
          if (!r.u32(c.index) || !r.u32(c.op) || !r.u64(c.a) || !r.u64(c.b)) {
            err = r.error();
            return false;
          }
          if (c.index > 5) return bad("argument index over 5");
          if (c.op < NE || c.op > MASKED_EQ) return bad("unknown operator");
        }
      }
    }
  }
  if (!r.atEnd()) return bad("trailing bytes");
  return true;
}

// ---------------------------------------------------------------------------
// Back-to-front emitter.

// Where a jump goes: a return of an action (placed wherever convenient) or an
// already placed instruction, named by its index counted from the program's end.
struct Target {
  bool isRet;
  uint32_t action;
  size_t label;
  static Target Ret(uint32_t a) { return {true, a, 0}; }
  static Target At(size_t l) { return {false, 0, l}; }
};

class Emitter {
 public:
  size_t size() const { return rev_.size(); }

  size_t Ret(uint32_t action) {
    size_t l = Put({RET_K, 0, 0, action});
    retCopy_[action] = l;
    return l;
  }
  size_t Load(uint32_t off) { return Put({LD_W_ABS, 0, 0, off}); }
  size_t And(uint32_t k) { return Put({ALU_AND_K, 0, 0, k}); }

  // A conditional jump; returns it as a target. Reaching a far target costs one
  // extra instruction placed right after the jump.
  Target Jump(uint16_t code, uint32_t k, Target jt, Target jf) {
    size_t t = Resolve(jt, 2);
    size_t f = Resolve(jf, 1);
    size_t at = size();
    return Target::At(Put({code, uint8_t(at - t - 1), uint8_t(at - f - 1), k}));
  }

  // Makes `t` the instruction that the next one emitted (placed before it) falls
  // through to.
  void FallInto(Target t) {
    if (t.isRet) Ret(t.action);
    else if (t.label != size() - 1) Put({JMP_JA, 0, 0, uint32_t(size() - t.label - 1)});
  }

  std::vector<Insn> Program() const { return std::vector<Insn>(rev_.rbegin(), rev_.rend()); }

 private:
  size_t Put(Insn i) {
    rev_.push_back(i);
    return rev_.size() - 1;
  }
  static bool Near(size_t from, size_t label) { return from - label - 1 <= 255; }

  // A label reachable by a conditional jump placed at most `slack` instructions
  // from now.
  size_t Resolve(Target t, size_t slack) {
    size_t from = size() + slack;
    if (t.isRet) {
      auto it = retCopy_.find(t.action);
      if (it != retCopy_.end() && Near(from, it->second)) return it->second;
      return Ret(t.action);
    }
    if (Near(from, t.label)) return t.label;
    auto it = jaCopy_.find(t.label);
    if (it != jaCopy_.end() && Near(from, it->second)) return it->second;
    size_t l = Put({JMP_JA, 0, 0, uint32_t(size() - t.label - 1)});
    jaCopy_[t.label] = l;
    return l;
  }

  std::vector<Insn> rev_;  // rev_[i] is the i-th instruction from the end
  std::map<uint32_t, size_t> retCopy_;
  std::map<size_t, size_t> jaCopy_;
};

class Compiler {
 public:
  explicit Compiler(const Filter& f) : f_(f) {}

  std::vector<Insn> Run() {
    std::vector<Target> entry(f_.sections.size(), Target::Ret(0));
    for (size_t i = f_.sections.size(); i-- > 0;) entry[i] = EmitSection(f_.sections[i]);
    Target next = Target::Ret(f_.badArchAction);
    for (size_t i = f_.sections.size(); i-- > 0;) next = e_.Jump(JMP_JEQ_K, f_.sections[i].auditArch, entry[i], next);
    e_.FallInto(next);
    e_.Load(kOffArch);
    return e_.Program();
  }

 private:
  enum Outcome { kRules, kEnosys, kBadArch };

  // What runc's -ENOSYS stub followed by libseccomp's filter does with a number,
  // before looking at the syscall rules.
  static Outcome Classify(const Section& s, uint32_t nr) {
    bool x32 = nr & kX32Bit;
    switch (s.kind) {
      case X86_64_ONLY:
        if (s.enosys && s.maxA && !x32 && nr > s.maxA) return kEnosys;
        // libseccomp lets -1 through (tracers use it to skip a syscall).
        if (nr >= kX32Bit) return nr == 0xffffffffu ? kRules : kBadArch;
        return kRules;
      case X32_ONLY:
        if (s.enosys && s.maxA && x32 && nr > s.maxA) return kEnosys;
        return nr < kX32Bit ? kBadArch : kRules;
      case X86_64_AND_X32:
        if (s.enosys && (x32 ? s.maxB && nr > s.maxB : s.maxA && nr > s.maxA)) return kEnosys;
        return kRules;
      default:
        if (s.enosys && s.maxA && nr > s.maxA) return kEnosys;
        return kRules;
    }
  }

  struct Segment {
    uint32_t lo;
    const Syscall* rules;  // non-null: a syscall with argument rules
    uint32_t action;       // otherwise: the action returned
  };

  std::vector<Segment> Segments(const Section& s) {
    std::vector<uint64_t> cuts = {0, kX32Bit, 0x80000000u, 0xc0000000u, 0xffffffffu};
    for (uint32_t m : {s.maxA, s.maxB}) cuts.push_back(uint64_t(m) + 1);
    for (const Syscall& sc : s.syscalls) {
      cuts.push_back(sc.nr);
      cuts.push_back(uint64_t(sc.nr) + 1);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<Segment> segs;
    size_t next = 0;  // syscalls are ascending, so one cursor finds each
    for (uint64_t cut : cuts) {
      if (cut > 0xffffffffu) break;
      uint32_t nr = uint32_t(cut);
      while (next < s.syscalls.size() && s.syscalls[next].nr < nr) next++;
      const Syscall* sc = next < s.syscalls.size() && s.syscalls[next].nr == nr ? &s.syscalls[next] : nullptr;
      Segment seg{nr, nullptr, f_.defaultAction};
      switch (Classify(s, nr)) {
        case kEnosys: seg.action = f_.enosysAction; break;
        case kBadArch: seg.action = f_.badArchAction; break;
        case kRules:
          if (sc && sc->uncond) seg.action = sc->action;
          else if (sc) seg.rules = sc;
          break;
      }
      if (!seg.rules && !segs.empty() && !segs.back().rules && segs.back().action == seg.action) continue;
      segs.push_back(seg);
    }
    return segs;
  }

  Target EmitSection(const Section& s) {
    std::vector<Segment> segs = Segments(s);
    Target tree = EmitTree(s, segs, 0, segs.size() - 1);
    if (tree.isRet) return tree;  // one outcome for every number: no need to load it
    e_.FallInto(tree);
    return Target::At(e_.Load(kOffNr));
  }

  // Segments i..j, with the syscall number in A.
  Target EmitTree(const Section& s, const std::vector<Segment>& segs, size_t i, size_t j) {
    if (i == j) return segs[i].rules ? EmitRules(s, *segs[i].rules) : Target::Ret(segs[i].action);
    size_t mid = i + (j - i + 1) / 2;
    Target hi = EmitTree(s, segs, mid, j);
    Target lo = EmitTree(s, segs, i, mid - 1);
    return e_.Jump(JMP_JGE_K, segs[mid].lo, hi, lo);
  }

  // The syscall's rules in order; the first whose conditions all hold decides.
  Target EmitRules(const Section& s, const Syscall& sc) {
    Target fail = Target::Ret(f_.defaultAction);
    for (size_t r = sc.rules.size(); r-- > 0;) {
      const Rule& rule = sc.rules[r];
      Target pass = Target::Ret(rule.action);
      for (size_t c = rule.conds.size(); c-- > 0;) pass = EmitCond(s, sc.wide, rule.conds[c], pass, fail);
      fail = pass;
    }
    return fail;
  }

  uint32_t ArgOff(const Section& s, uint32_t index, bool high) const {
    return kOffArgs + 8 * index + ((high != s.bigEndian) ? 4 : 0);
  }

  // One argument condition: its code runs on to `pass` or `fail`. 64-bit values
  // are compared as two 32-bit words, high word first, the way libseccomp does.
  Target EmitCond(const Section& s, bool wide, const Cond& c, Target pass, Target fail) {
    uint32_t alo = uint32_t(c.a), ahi = uint32_t(c.a >> 32);
    uint32_t lo = ArgOff(s, c.index, false), hi = ArgOff(s, c.index, true);
    auto masked = [&](uint32_t off, uint32_t mask, uint32_t datum, Target p) {
      if (mask == 0) return p;  // (x & 0) == (d & 0) always holds
      e_.Jump(JMP_JEQ_K, datum & mask, p, fail);
      if (mask != 0xffffffffu) e_.And(mask);
      return Target::At(e_.Load(off));
    };
    if (!wide) {  // 32-bit ABI: the low word is the whole argument
      if (c.op == MASKED_EQ) return masked(lo, alo, uint32_t(c.b), pass);
      LowWord(c.op, alo, pass, fail);
      return Target::At(e_.Load(lo));
    }
    if (c.op == MASKED_EQ) {
      uint32_t blo = uint32_t(c.b), bhi = uint32_t(c.b >> 32);
      return masked(hi, ahi, bhi, masked(lo, alo, blo, pass));
    }
    // Low word, reached when the high words are equal.
    LowWord(c.op, alo, pass, fail);
    Target low = Target::At(e_.Load(lo));
    // High word: decides alone unless equal.
    Target t;
    switch (c.op) {
      case EQ: t = e_.Jump(JMP_JEQ_K, ahi, low, fail); break;
      case NE: t = e_.Jump(JMP_JEQ_K, ahi, low, pass); break;
      case GT:
      case GE:
        // hi > ahi passes; hi == ahi goes on to the low word; otherwise fails.
        // With ahi == 0, "not greater" already means "equal".
        t = ahi == 0 ? low : e_.Jump(JMP_JEQ_K, ahi, low, fail);
        t = e_.Jump(JMP_JGT_K, ahi, pass, t);
        break;
      default:  // LT, LE: hi > ahi fails; equal goes on; less passes
        t = ahi == 0 ? low : e_.Jump(JMP_JEQ_K, ahi, low, pass);
        t = e_.Jump(JMP_JGT_K, ahi, fail, t);
        break;
    }
    return Target::At(e_.Load(hi));
  }

  // The comparison of one 32-bit word with A holding it.
  void LowWord(uint32_t op, uint32_t k, Target pass, Target fail) {
    switch (op) {
      case EQ: e_.Jump(JMP_JEQ_K, k, pass, fail); break;
      case NE: e_.Jump(JMP_JEQ_K, k, fail, pass); break;
      case GT: e_.Jump(JMP_JGT_K, k, pass, fail); break;
      case GE: e_.Jump(JMP_JGE_K, k, pass, fail); break;
      case LT: e_.Jump(JMP_JGE_K, k, fail, pass); break;
      default: e_.Jump(JMP_JGT_K, k, fail, pass); break;  // LE
    }
  }

  const Filter& f_;
  Emitter e_;
};

// The whole job: input bytes -> program, or an error message for the user.
inline bool CompileInput(const uint8_t* data, size_t len, std::vector<Insn>& prog, std::string& err) {
  Filter f;
  if (!Parse(data, len, f, err)) {
    err = "seccomp: invalid compiler input: " + err;
    return false;
  }
  prog = Compiler(f).Run();
  if (prog.size() > kMaxInsns) {
    err = "seccomp: program has " + std::to_string(prog.size()) + " instructions, over the kernel's limit of " +
          std::to_string(kMaxInsns);
    return false;
  }
  return true;
}

}  // namespace ocirt_seccomp
