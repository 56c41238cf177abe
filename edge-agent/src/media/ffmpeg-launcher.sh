# The recorder's ffmpeg launcher (POSIX sh, single-threaded). See docs/recorder.md, "How ffmpeg is run and stopped".
#
#   setpriv --pdeathsig TERM -- /bin/sh ffmpeg-launcher.sh AGENT_PID setpriv --pdeathsig TERM -- ffmpeg ARGS...
#
# It starts the command (ffmpeg) as its only child and forwards to it exactly ONE SIGTERM, however many stop signals
# it receives: the agent's SIGINT (a normal stop), or the SIGTERM the kernel delivers through --pdeathsig when the
# agent dies. (SIGTERM, not SIGINT: an asynchronous command of a shell starts with SIGINT ignored; ffmpeg handles
# both the same way, a graceful stop.) A SIGKILLed agent (node, many threads) delivers its pdeathsig once per dying thread; ffmpeg itself skips its
# trailer and drops its buffered packets at the second signal, so it must see one. This shell has one thread, so
# ffmpeg's own pdeathsig (its parent is this shell) fires at most once, if this shell is killed.
#
# It reports ffmpeg's pid on stderr (one line, `mamoru-launcher: pid N`) and exits with ffmpeg's status: an ffmpeg
# killed by a signal is reported by this shell dying of the same signal. Nothing is written after the start (the
# agent's pipes may be gone), and nothing is done per packet: the shell sleeps in `wait`.

agent=$1
shift
# The first stop request is forwarded, every later one ignored. The forwarding function's first command sets INT and
# TERM to ignored: a request that comes while it runs (a dying agent sends one per thread, in a burst) finds nothing
# to run. (Not a ticket in a `local` variable, as before: dash runs a trap that arrives during another trap's function
# inside it, and under a burst that ticket was seen to forward nothing: ffmpeg ran on after its agent died.)
stop=
pid=
stop_ffmpeg() {
  trap '' INT TERM
  # Until the child has left this shell's code (exec), a signal would reach its copy of this shell's trap and be
  # lost; it execs within moments of the start.
  while [ /proc/$pid/exe -ef /proc/$$/exe ]; do sleep 0.01; done
  kill -s TERM "$pid" 2>/dev/null
  return 0
}
# Until ffmpeg's pid is known a request is only noted; it is forwarded right after (below).
trap 'stop=1' INT TERM
trap '' PIPE
# The agent died before --pdeathsig was armed (we were reparented already): start nothing.
[ "$PPID" = "$agent" ] || exit 125
# ffmpeg gets the agent's chosen environment (TZ, PATH) and nothing of the shell's own (it exports PWD).
unset PWD OLDPWD
"$@" &
pid=$!
trap stop_ffmpeg INT TERM
[ -n "$stop" ] && stop_ffmpeg
# The input list (the camera URL) is ffmpeg's, on its own fd 3; this shell drops its copy.
exec 3<&-
echo "mamoru-launcher: pid $pid" >&2 2>/dev/null

# `wait` returns early (status > 128) when a trapped signal arrives; wait again while ffmpeg still exists.
while :; do
  wait "$pid"
  st=$?
  kill -0 "$pid" 2>/dev/null && continue
  # Gone: if the last `wait` was interrupted just as ffmpeg ended, its job is still known and this gives the status.
  wait "$pid" 2>/dev/null
  st2=$?
  [ "$st2" != 127 ] && st=$st2
  break
done
# ffmpeg killed by a signal (sh reports 128 + N; ffmpeg's own exit codes are 0, 1, 123 and 255): die of it too.
if [ "$st" -gt 128 ] && [ "$st" -le 192 ]; then
  trap - INT TERM PIPE
  kill -s "$(kill -l "$st")" "$$" 2>/dev/null
fi
exit "$st"
