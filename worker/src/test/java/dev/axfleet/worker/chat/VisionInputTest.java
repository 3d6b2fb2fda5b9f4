package dev.axfleet.worker.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.testing.TestTools;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images as phones and browsers send them, made what a vision encoder of 448 × 448 needs. */
class VisionInputTest {
    @TempDir
    Path dir;

    /** A width × height image whose left half is red and right half blue, so a turn shows where the colours went. */
    static BufferedImage halves(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, x < w / 2 ? 0xFF0000 : 0x0000FF);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), format);
        return out.toByteArray();
    }

    /** A JPEG with an Exif APP1 segment whose IFD0 holds only Orientation (tag 274), as cameras write it. */
    static byte[] withOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.LITTLE_ENDIAN);
        tiff.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1).putShort((short) 274).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putInt(0);
        byte[] exif = ByteBuffer.allocate(6 + tiff.capacity()).put("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .put(tiff.array()).array();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xFF);
        out.write(0xD8);
        out.write(0xFF);
        out.write(0xE1);
        int len = exif.length + 2;
        out.write(len >> 8);
        out.write(len & 0xFF);
        out.writeBytes(exif);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    static BufferedImage decode(VisionInput.Prepared p) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(p.png()));
    }

    @Test
    void aLargePhotoIsScaledDownUntilItJustCoversTheEncoderAndKeepsItsShape() throws Exception {
        VisionInput.Prepared p = VisionInput.prepare(encode(halves(4000, 3000), "jpeg"), 448, 448);
        assertEquals(597, p.width());
        assertEquals(448, p.height());
        assertEquals(4000, p.sourceWidth());
        BufferedImage out = decode(p);
        assertEquals(597, out.getWidth());
        assertTrue(((out.getRGB(10, 200) >> 16) & 0xFF) > 0xC0 && (out.getRGB(10, 200) & 0xFF) < 0x40, "left stays red");
        assertTrue((out.getRGB(580, 200) & 0xFF) > 0xC0, "right stays blue");
    }

    @Test
    void aSmallImageIsNeverScaledUp() throws Exception {
        VisionInput.Prepared p = VisionInput.prepare(encode(halves(200, 100), "png"), 448, 448);
        assertEquals(200, p.width());
        assertEquals(100, p.height());
    }

    @Test
    void aPortraitPhotoStoredSidewaysIsTurnedUprightByItsExifOrientation() throws Exception {
        // Stored 800 × 600, left red: orientation 6 shows it turned 90° clockwise, 600 × 800 with red on top.
        byte[] jpeg = withOrientation(encode(halves(800, 600), "jpeg"), 6);
        assertEquals(6, VisionInput.exifOrientation(jpeg));
        VisionInput.Prepared p = VisionInput.prepare(jpeg, 2000, 2000);
        assertEquals(600, p.width());
        assertEquals(800, p.height());
        BufferedImage out = decode(p);
        assertTrue(((out.getRGB(300, 50) >> 16) & 0xFF) > 0xC0, "red is on top");
        assertTrue((out.getRGB(300, 750) & 0xFF) > 0xC0, "blue at the bottom");
        assertEquals(1, VisionInput.exifOrientation(encode(halves(8, 8), "jpeg")), "no Exif: as stored");
    }

    @Test
    void whatIsNotAnImageIsRefusedWithItsReason() {
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
                () -> VisionInput.prepare("hello, this is not a picture".getBytes(java.nio.charset.StandardCharsets.UTF_8), 448, 448));
        assertTrue(text.getMessage().contains("not an image"), text.getMessage());
        byte[] heic = new byte[64];
        System.arraycopy("\0\0\0\u0018ftypheic".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, heic, 0, 12);
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class, () -> VisionInput.prepare(heic, 448, 448));
        assertTrue(h.getMessage().contains("HEIC"), h.getMessage());
        byte[] broken = new byte[100];
        broken[0] = (byte) 0x89;
        broken[1] = 'P';
        broken[2] = 'N';
        broken[3] = 'G';
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> VisionInput.prepare(broken, 448, 448));
        assertTrue(b.getMessage().contains("not a readable image") || b.getMessage().contains("not an image"), b.getMessage());
    }

    @Test
    void aWebpFromABrowserIsRead() throws Exception {
        Path ffmpeg = Path.of("/usr/bin/ffmpeg");
        TestTools.require("ffmpeg (to make a WebP)", "apt-get install ffmpeg", Files.isExecutable(ffmpeg));
        Path png = dir.resolve("in.png");
        Path webp = dir.resolve("out.webp");
        Files.write(png, encode(halves(640, 480), "png"));
        Process p = new ProcessBuilder(ffmpeg.toString(), "-loglevel", "error", "-y", "-i", png.toString(), webp.toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        VisionInput.Prepared out = VisionInput.prepare(Files.readAllBytes(webp), 448, 448);
        assertEquals(597, out.width());
        assertEquals(448, out.height());
    }
}
