# The benchmark's picture: gnuplot -e "dir='...'; out='x.png'; title='...'" bench/plot.gp
# Reads the data files the harness writes into dir (bench/work/plot). Panels whose data is
# missing (a phase left out with --only) say so instead.

have(f) = system(sprintf("[ -s '%s/%s' ] && echo 1 || echo 0", dir, f)) + 0
f(name) = sprintf("%s/%s", dir, name)

set terminal pngcairo size 1600,1100 font "sans,11"
set output out
set multiplot layout 2,2 title title font "sans,14"
set grid ytics lc rgb "#dddddd"
# counts first: stats obeys the axis ranges set later
n1 = 1
if (have("resume.dat")) { stats f("resume.dat") using 2 nooutput; n1 = STATS_records }
mtop = 300
if (have("memory.dat")) { stats f("memory.dat") using 2 nooutput; mtop = STATS_max * 1.15 }
set key top right

# 1: bulk throughput
set title "Bulk throughput, median of runs (bars: min-max), MB/s"
if (have("throughput.dat")) {
    set style data histogram
    set style histogram errorbars gap 1 lw 1
    set style fill solid 0.7 border -1
    set logscale y
    set yrange [10:*]
    set ylabel "MB/s (log scale)"
    set xtics nomirror
    plot f("throughput.dat") using 2:3:4:xtic(1) title "upstream" lc rgb "#4477aa", \
         "" using 5:6:7 title "downstream" lc rgb "#ee6677"
    unset logscale y
    set yrange [*:*]
    set style data points
} else {
    set label 1 "throughput not measured" at graph 0.5,0.5 center
    plot [0:1][0:1] -1 notitle
    unset label 1
}

# 2: round trip CDF
set title "1-byte round trip (echo), cumulative distribution"
set xlabel "round trip, microseconds (log scale)"
set ylabel "fraction of round trips"
set yrange [0:1]
set key bottom right
if (have("rtt-direct.dat")) {
    set logscale x
    plot f("rtt-direct.dat") using 1:2 with lines lw 2 lc rgb "#228833" title "direct TCP", \
         f("rtt-socat.dat") using 1:2 with lines lw 2 lc rgb "#4477aa" title "socat->socat", \
         f("rtt-socat64k.dat") using 1:2 with lines lw 1 dt 2 lc rgb "#4477aa" title "socat -b 64K", \
         f("rtt-roamproxy.dat") using 1:2 with lines lw 2 lc rgb "#ee6677" title "cproxy->sproxy"
} else {
    set label 1 "round trip not measured" at graph 0.5,0.5 center
    plot [0:1][0:1] -1 notitle
    unset label 1
}
unset logscale x
set yrange [*:*]

# 3: resume latency
set title "Resume: new address appears -> first relayed byte"
set xlabel "milliseconds after the new address"
set ylabel "fraction"
set yrange [0:1]
set xrange [0:*]
set key bottom right
p1 = have("resume.dat")
p2 = have("sessions-resume.dat")
s1 = "one session, each address change"
s2 = "all sessions after one address change"
if (p1 && p2) {
    plot f("resume.dat") using 2:(1.0/n1) smooth cumulative with steps lw 2 lc rgb "#ee6677" title s1, \
         f("sessions-resume.dat") using 1:2 with lines lw 2 lc rgb "#aa3377" title s2
} else { if (p1) {
    plot f("resume.dat") using 2:(1.0/n1) smooth cumulative with steps lw 2 lc rgb "#ee6677" title s1
} else { if (p2) {
    plot f("sessions-resume.dat") using 1:2 with lines lw 2 lc rgb "#aa3377" title s2
} else {
    set label 1 "resume not measured" at graph 0.5,0.5 center
    plot [0:1][0:1] -1 notitle
    unset label 1
} } }
set xrange [*:*]
set yrange [*:*]

# 4: sproxy memory and threads during the many-session test
set title "sproxy during the many-session test"
set xlabel "seconds"
set ylabel "RSS, MiB"
set y2label "threads"
set y2tics
set ytics nomirror
set key center right opaque
if (have("memory.dat")) {
    top = mtop
    set yrange [0:top]
    set y2range [0:*]
    plot f("memory.dat") using 1:2 with lines lw 2 lc rgb "#ee6677" title "sproxy RSS (MiB)", \
         f("memory.dat") using 1:3 axes x1y2 with lines lw 1 dt 2 lc rgb "#4477aa" title "sproxy threads", \
         f("memory.dat") using 1:4 with lines lw 1 lc rgb "#bbbbbb" title "cproxy RSS (MiB)", \
         256 with lines lw 1 dt 3 lc rgb "#000000" title "256 MiB target", \
         f("phases.dat") using 1:(top*0.97):2 with labels rotate by 90 right font "sans,9" notitle, \
         f("phases.dat") using 1:(top) with impulses lc rgb "#cccccc" notitle
} else {
    set label 1 "many-session test not run" at graph 0.5,0.5 center
    plot [0:1][0:1] -1 notitle
    unset label 1
}
unset multiplot
