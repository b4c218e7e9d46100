import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseSignal, signalName } from "../../src/lifecycle/signal-names";
import { UsageError } from "../../src/errors";
import { native } from "../../src/native";
import { constants } from "node:os";

function bad(s: string, re: RegExp): void {
  try {
    parseSignal(s);
  } catch (err) {
    assert.instance(err, UsageError, s);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`${JSON.stringify(s)} should be rejected`);
}

test("names with and without SIG, any case", () => {
  for (const s of ["SIGKILL", "KILL", "kill", "sigkill", "Kill", "SigKill"]) assert.is(parseSignal(s), 9, s);
  for (const s of ["TERM", "SIGTERM", "term"]) assert.is(parseSignal(s), 15, s);
  const table: Record<string, number> = {
    HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
    ALRM: 14, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
    VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
  };
  for (const [name, n] of Object.entries(table)) {
    assert.is(parseSignal(name), n, name);
    assert.is(parseSignal("SIG" + name), n, "SIG" + name);
  }
});

test("numbers as they are, 0 included (runc's strconv.Atoi); the kernel judges the rest", () => {
  assert.is(parseSignal("9"), 9);
  assert.is(parseSignal("1"), 1);
  assert.is(parseSignal("64"), 64);
  assert.is(parseSignal("015"), 15);
  assert.is(parseSignal("0"), 0);
  assert.is(parseSignal("65"), 65);
  bad("99999999999999999999", /invalid signal/);
});

test("real-time signals: RTMIN+n and RTMAX-n", () => {
  assert.is(parseSignal("RTMIN"), 34);
  assert.is(parseSignal("SIGRTMIN"), 34);
  assert.is(parseSignal("RTMIN+0"), 34);
  assert.is(parseSignal("RTMIN+1"), 35);
  assert.is(parseSignal("sigrtmin+3"), 37);
  assert.is(parseSignal("RTMIN+30"), 64);
  assert.is(parseSignal("RTMAX"), 64);
  assert.is(parseSignal("SIGRTMAX-1"), 63);
  assert.is(parseSignal("rtmax-30"), 34);
  bad("RTMIN+31", /invalid signal/);
  bad("RTMAX-31", /invalid signal/);
  bad("RTMIN+100", /invalid signal/);
  bad("RTMIN-1", /unknown signal/);
  bad("RTMAX+1", /unknown signal/);
  bad("RTMIN+", /unknown signal/);
});

test("bad input is a UsageError naming it", () => {
  bad("NOPE", /unknown signal "NOPE"/);
  bad("", /unknown signal ""/);
  bad("SIG", /unknown signal/);
  bad("-9", /unknown signal "-9"/);
  bad("9x", /unknown signal/);
  bad("1.5", /unknown signal/);
  bad(" KILL", /unknown signal/);
  bad("SIGSIGKILL", /unknown signal/);
  bad("constructor", /unknown signal/);
  bad("__proto__", /unknown signal/);
});

test("signalName", () => {
  assert.is(signalName(9), "SIGKILL");
  assert.is(signalName(15), "SIGTERM");
  assert.is(signalName(6), "SIGABRT");
  assert.is(signalName(40), "40");
});


test("the addon's signal table is node:os's", () => {
  const os = Object.fromEntries(Object.entries(constants.signals).filter(([k]) => k !== "SIGUNUSED"));
  assert.equal(native().signals, os);
});

test.run();
