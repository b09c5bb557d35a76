# bench/run's picture: gnuplot -e "figures='S-figures.dat'; scale='S-scale-A.csv ...'; names='A ...'; out='S.png'; title='...'" bench/plot.gp
# figures: "runtime\npath" up_MB/s down_MB/s p50_us p99_us per line; scale: load.py's samples (CSV).
set terminal pngcairo size 1600,1100 font "sans,10"; set output out
set multiplot layout 2,2 title title font "sans,14"
set grid ytics lc rgb "#dddddd"
set style data histogram; set style histogram clustered gap 1; set style fill solid 0.7 border -1
set xtics nomirror font "sans,8"
set title "Bulk throughput, median of runs, MB/s (log scale)"
set logscale y
plot figures using 2:xtic(1) title "upstream" lc rgb "#4477aa", "" using 3 title "downstream" lc rgb "#ee6677"
unset logscale y
set title "1-byte round trip, µs"
set key top left
plot figures using 4:xtic(1) title "p50" lc rgb "#228833", "" using 5 title "p99" lc rgb "#ccbb44"
set style data lines; set datafile separator ","
set key top left
set xlabel "seconds since the first session opened"
set xtics auto font "sans,10"
set title "RSS of each daemon during the scale run, MiB"
plot for [i=1:words(scale)] word(scale, i) using 1:4 title word(names, i)." cproxy" lw 2, \
     for [i=1:words(scale)] word(scale, i) using 1:6 title word(names, i)." sproxy" lw 2 dt 2
set title "Open sessions and threads of each daemon"
set key bottom right
plot for [i=1:words(scale)] word(scale, i) using 1:2 title word(names, i)." sessions" lw 3, \
     for [i=1:words(scale)] word(scale, i) using 1:5 title word(names, i)." cproxy threads" lw 1, \
     for [i=1:words(scale)] word(scale, i) using 1:7 title word(names, i)." sproxy threads" lw 1 dt 2
