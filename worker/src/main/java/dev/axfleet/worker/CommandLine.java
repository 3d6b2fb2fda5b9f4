package dev.axfleet.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Command lines as written in the config file: split like a shell would (quotes, no expansion). */
final class CommandLine {
    private CommandLine() {
    }

    /** Splits {@code line} into words and replaces {@code {name}} placeholders in each word. */
    static List<String> parse(String line, Map<String, String> placeholders) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unclosed quote in command: " + line);
        }
        if (inWord) {
            words.add(word.toString());
        }
        List<String> out = new ArrayList<>(words.size());
        for (String w : words) {
            for (Map.Entry<String, String> p : placeholders.entrySet()) {
                w = w.replace("{" + p.getKey() + "}", p.getValue());
            }
            out.add(w);
        }
        return out;
    }
}
