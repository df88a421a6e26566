import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsResult;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;

/**
 * The benchmark's reference (tools/bench/java-reference.ts): Kafka's own Java AdminClient
 * doing the read a lag check needs, in one warm JVM, one cycle per "cycle" line on stdin:
 *
 *   listGroups; describeConsumerGroups(all) together with listConsumerGroupOffsets(all groups
 *   in one call, the multi-group form); listOffsets(latest) for every partition with a
 *   committed offset; the lag per group.
 *
 * Each cycle answers one JSON line on stdout: its time (System.nanoTime, around the calls),
 * the time of each step, what it read, and the AdminClient's own count of requests sent
 * (its "request-total" metric) during the cycle. "cycle totals" adds each group's total lag.
 * Compiled at benchmark time against the test bed's jars; nothing compiled is committed.
 */
public final class JavaReference {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String clientId = args[1];
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "300000");
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Admin admin = Admin.create(props)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            out.println("{\"ready\":true,\"java\":\"" + System.getProperty("java.version") + "\"}");
            String line;
            while ((line = in.readLine()) != null) {
                line = line.trim();
                if (line.equals("quit")) break;
                if (!line.startsWith("cycle")) continue;
                try {
                    out.println(cycle(admin, line.contains("totals")));
                } catch (Exception e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    out.println("{\"ok\":false,\"error\":\"" + escape(String.valueOf(cause)) + "\"}");
                }
            }
        }
    }

    private static double requestsSent(Admin admin) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : admin.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals("request-total") && name.group().equals("admin-client-metrics")) {
                total += ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return total;
    }

    private static String cycle(Admin admin, boolean withTotals) throws Exception {
        double requestsBefore = requestsSent(admin);
        long t0 = System.nanoTime();
        Collection<GroupListing> listed = admin.listGroups().all().get();
        List<String> ids = new ArrayList<>(listed.size());
        for (GroupListing g : listed) ids.add(g.groupId());
        long t1 = System.nanoTime();

        // Independent of each other: both on their way at once.
        KafkaFuture<Map<String, ConsumerGroupDescription>> described = admin.describeConsumerGroups(ids).all();
        Map<String, ListConsumerGroupOffsetsSpec> specs = new HashMap<>();
        for (String id : ids) specs.put(id, new ListConsumerGroupOffsetsSpec());
        ListConsumerGroupOffsetsResult offsetsResult = admin.listConsumerGroupOffsets(specs);
        Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = offsetsResult.all().get();
        Map<String, ConsumerGroupDescription> descriptions = described.get();
        long t2 = System.nanoTime();

        Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
        for (Map<TopicPartition, OffsetAndMetadata> group : offsets.values()) {
            for (TopicPartition tp : group.keySet()) wanted.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(wanted).all().get();
        long t3 = System.nanoTime();

        Map<String, Long> totals = new TreeMap<>();
        long rows = 0;
        for (Map.Entry<String, Map<TopicPartition, OffsetAndMetadata>> group : offsets.entrySet()) {
            long lag = 0;
            for (Map.Entry<TopicPartition, OffsetAndMetadata> p : group.getValue().entrySet()) {
                if (p.getValue() == null) continue;
                ListOffsetsResultInfo end = ends.get(p.getKey());
                if (end == null) continue;
                lag += Math.max(0, end.offset() - p.getValue().offset());
                rows++;
            }
            totals.put(group.getKey(), lag);
        }
        long t4 = System.nanoTime();
        double requestsAfter = requestsSent(admin);

        StringBuilder json = new StringBuilder(256);
        json.append("{\"ok\":true");
        json.append(",\"ms\":").append(ms(t4 - t0));
        json.append(",\"listGroupsMs\":").append(ms(t1 - t0));
        json.append(",\"describeAndOffsetsMs\":").append(ms(t2 - t1));
        json.append(",\"listOffsetsMs\":").append(ms(t3 - t2));
        json.append(",\"lagMs\":").append(ms(t4 - t3));
        json.append(",\"groups\":").append(ids.size());
        json.append(",\"described\":").append(descriptions.size());
        json.append(",\"partitions\":").append(wanted.size());
        json.append(",\"rows\":").append(rows);
        json.append(",\"ownRequests\":").append(Math.round(requestsAfter - requestsBefore));
        if (withTotals) {
            json.append(",\"totals\":{");
            boolean first = true;
            for (Map.Entry<String, Long> t : totals.entrySet()) {
                if (!first) json.append(',');
                first = false;
                json.append('"').append(escape(t.getKey())).append("\":").append(t.getValue());
            }
            json.append('}');
        }
        return json.append('}').toString();
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 10_000.0) / 100.0;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
