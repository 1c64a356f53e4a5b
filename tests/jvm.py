"""JVM options of every Spark driver the tests start (the session, spark-submit jobs, the DAG).

Tests run many short jobs on tiny data: the C1 JIT alone compiles faster than C2 would gain
(measured: about half the JVM time of the memory tests). C1 alone gets a 48 MB code cache by
default, which a whole test run can fill; the JVM then stops compiling altogether, so the
cache is raised.
"""

FAST_JVM_OPTIONS = "-XX:+TieredCompilation -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"
