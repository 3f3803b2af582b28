#!/usr/bin/env bash
# Builds the base image every Jib image of the project starts from, without a Docker daemon or a registry:
# a root file system assembled from Debian packages (the C and C++ runtimes libjvm and libtorch link against,
# tcmalloc, a POSIX shell) plus a JRE cut with jlink from the JDK that builds the project, written as a
# `docker save` tarball that Jib reads as `tar://...` and `docker load` accepts.
#
#   deploy/images/build-base-image.sh [OUTPUT_TAR]          (default deploy/target/images/dalle2-base.tar)
#   deploy/images/build-base-image.sh --fonts [OUTPUT_TAR]  (default deploy/target/images/dalle2-base-fonts.tar)
#
# --fonts adds FreeType, HarfBuzz, fontconfig and the DejaVu fonts, for the one role that draws text: the trainer
# worker, whose loss plots (XChart) have axis labels. The serving images stay without them.
#
# Needs: root (ldconfig -r and the check below chroot into the new root), Debian 12 (bookworm) amd64 with apt
# sources reachable (the packages must be the same release as the JDK's, which links against them), and
# openjdk-17-jdk-headless (jlink and the jmods). It checks, in a chroot, that every shared library of the JRE
# resolves inside the image and that java starts as the image's user.
# The layer is reproducible: same packages and JDK, same bytes (sorted names, fixed times, numeric owner 0).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fonts=0
if [ "${1:-}" = --fonts ]; then
  fonts=1
  shift
fi
if [ "$fonts" = 1 ]; then
  output="${1:-$root/deploy/target/images/dalle2-base-fonts.tar}"
  repo_tag=dalle2-base:bookworm-fonts
else
  output="${1:-$root/deploy/target/images/dalle2-base.tar}"
  repo_tag=dalle2-base:bookworm
fi
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"

# The JRE's modules: what the gateway and the workers use, found by running them, plus the ones only
# reached through ServiceLoader (TLS curves, DNS, zip file systems, extra charsets), which no static scan sees.
# java.desktop is there for ImageIO and BufferedImage (PNG encoding and decoding), headless.
jre_modules=java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.security.jgss,\
java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.unsupported,jdk.zipfs,jdk.naming.dns,\
jdk.charsets,jdk.net,jdk.jfr

# libc6, libgcc-s1, libstdc++6: libjvm and libtorch; zlib1g: libjava (Debian's JDK uses the system zlib);
# liblcms2-2, libjpeg62-turbo: ImageIO's colour management and JPEG (Debian's JDK links the system copies);
# libtcmalloc-minimal4: preloaded by the workers (the U-Net steps were 2x faster than with glibc's malloc);
# dash: /bin/sh for the entrypoint, which expands DALLE2_JAVA_OPTS and DALLE2_THREADS;
# busybox-static: `busybox wget` for compose healthchecks on /readyz (one static binary; there is no curl).
# Not included: X11 and ALSA (AWT's windows and sound are never used), nor, without --fonts, fontconfig and
# FreeType (only the trainer draws text).
packages=(libc6 libgcc-s1 libstdc++6 zlib1g liblcms2-2 libjpeg62-turbo libtcmalloc-minimal4 dash busybox-static)
# --fonts: what Debian's libfontmanager links against (FreeType, HarfBuzz and theirs), fontconfig, which the JDK
# asks for the fonts there are, and one font family
font_packages=(libfreetype6 libharfbuzz0b libgraphite2-3 libglib2.0-0 libpcre2-8-0 libpng16-16 libbrotli1
  libfontconfig1 libexpat1 libuuid1 fontconfig-config fonts-dejavu-core)
if [ "$fonts" = 1 ]; then
  packages+=("${font_packages[@]}")
fi

[ "$(id -u)" = 0 ] || { echo "build-base-image: needs root (ldconfig -r, chroot)" >&2; exit 1; }
if [ "$(. /etc/os-release && echo "$VERSION_CODENAME")" != bookworm ] || [ "$(dpkg --print-architecture)" != amd64 ]; then
  echo "build-base-image: needs Debian bookworm amd64 (the JDK and the packages must be the same release)" >&2
  exit 1
fi
[ -x "$java_home/bin/jlink" ] && [ -f "$java_home/jmods/java.base.jmod" ] || {
  echo "build-base-image: no jlink or jmods under $java_home (apt-get install openjdk-17-jdk-headless)" >&2
  exit 1
}

work="$(mktemp -d)"
# the chroot check mounts a proc file system in the root file system: unmount it before anything is removed
trap 'umount "$work/rootfs/proc" 2>/dev/null || true; rm -rf --one-file-system "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs" "$work/debs"
chmod 755 "$work" "$work/debs"   # apt downloads as the _apt user where it can

echo "build-base-image: downloading ${packages[*]}" >&2
(cd "$work/debs" && apt-get download -q "${packages[@]}" >&2)
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$rootfs"
done
# dash's package leaves /bin/sh to its maintainer script
[ -e "$rootfs/bin/sh" ] || ln -s dash "$rootfs/bin/sh"
# documentation and translations are dead weight in a container; the copyright files stay
find "$rootfs/usr/share/doc" -mindepth 2 -not -name copyright -delete 2>/dev/null || true
rm -rf "$rootfs/usr/share/man" "$rootfs/usr/share/locale" "$rootfs/usr/share/lintian" "$rootfs/usr/share/menu"

echo "build-base-image: jlink $jre_modules" >&2
"$java_home/bin/jlink" --add-modules "$jre_modules" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$rootfs/opt/java"

mkdir -p "$rootfs/etc" "$rootfs/app" "$rootfs/tmp" "$rootfs/var/cache/djl" "$rootfs/usr/sbin" \
  "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
# 1777 like /tmp: the DJL cache (libtorch is extracted there at the first start) must be writable by whatever
# uid the pod runs as, not only the image's 10001
chmod 1777 "$rootfs/tmp" "$rootfs/var/cache/djl"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ndalle2:x:10001:10001:dalle2:/app:/usr/sbin/nologin\n' \
  > "$rootfs/etc/passwd"
printf 'root:x:0:\ndalle2:x:10001:\n' > "$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
printf '%s\n' /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu > "$rootfs/etc/ld.so.conf"
cp /etc/os-release "$rootfs/etc/os-release"

{
  # a loader cache, so that the multiarch folders are searched as on Debian itself
  ldconfig -r "$rootfs"
  rm -rf "$rootfs/var/cache/ldconfig"   # its aux-cache records inode times: the one file that differs between builds
  # every library the JRE links against must resolve inside the image (the X11, sound and font bridges
  # excepted: they are loaded only for windows, sound and text, which a headless service never opens)
  missing=0
  while read -r lib; do
    case "$lib" in */libawt_xawt.so|*/libjawt.so|*/libjsound.so|*/libsplashscreen.so) continue ;; esac
    if [ "$fonts" = 0 ] && [ "${lib##*/}" = libfontmanager.so ]; then continue; fi
    # the JRE's own libraries find each other through libjvm, which java has loaded before them
    listing="$(chroot "$rootfs" /lib64/ld-linux-x86-64.so.2 --library-path /opt/java/lib:/opt/java/lib/server \
      --list "${lib#"$rootfs"}" 2>&1 || true)"
    if grep -q 'not found\|error' <<<"$listing"; then
      echo "build-base-image: unresolved libraries of ${lib#"$rootfs"}:" >&2
      echo "$listing" >&2
      missing=1
    fi
  done < <(find "$rootfs/opt/java" -name '*.so' -o -path '*/bin/java')
  [ "$missing" = 0 ] || exit 1
  # java finds its libjli through $ORIGIN, which the loader reads from /proc, as in any container
  mount -t proc proc "$rootfs/proc"
  chroot --userspec=10001:10001 "$rootfs" /bin/sh -c 'exec /opt/java/bin/java -Djava.awt.headless=true -version' >&2
  if [ "$fonts" = 1 ]; then
    # text drawn headless, as the loss plots draw their labels: fontconfig finds a font and FreeType renders it
    mkdir -p "$work/fontcheck" "$rootfs/tmp/fontcheck"
    cp "$root/deploy/images/FontCheck.java" "$work/fontcheck/"
    "$java_home/bin/javac" --release 17 -d "$rootfs/tmp/fontcheck" "$work/fontcheck/FontCheck.java"
    chmod 1777 "$rootfs/tmp/fontcheck"
    chroot --userspec=10001:10001 "$rootfs" /bin/sh -c \
      'XDG_CACHE_HOME=/tmp/fontcheck/cache exec /opt/java/bin/java -Djava.awt.headless=true -cp /tmp/fontcheck FontCheck' >&2
    rm -rf "$rootfs/tmp/fontcheck"
  fi
  umount "$rootfs/proc"
}

layer="$work/image/layer.tar"
mkdir -p "$work/image"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$rootfs" -cf "$layer" \
  $(cd "$rootfs" && ls -A)   # top-level names, not ./: Jib refuses a tar entry named ./
diff_id="sha256:$(sha256sum "$layer" | cut -d' ' -f1)"

# Environment every image inherits; the roles add theirs (Jib keeps a base image's Env and appends).
# fontconfig keeps its cache under XDG_CACHE_HOME: in /tmp, the one folder writable by any uid (an emptyDir when
# the root file system is read-only), not in /app, which belongs to 10001
font_env=""
if [ "$fonts" = 1 ]; then
  font_env=',"XDG_CACHE_HOME=/tmp/.cache"'
fi
cat > "$work/image/config.json" <<EOF
{"architecture":"amd64","os":"linux",
 "config":{"Env":["PATH=/opt/java/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/opt/java","LANG=C.UTF-8"$font_env],
           "User":"10001:10001","WorkingDir":"/app"},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"deploy/images/build-base-image.sh: ${packages[*]} + jlink $jre_modules"}]}
EOF
config_name="$(sha256sum "$work/image/config.json" | cut -d' ' -f1).json"
mv "$work/image/config.json" "$work/image/$config_name"
printf '[{"Config":"%s","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "$config_name" "$repo_tag" \
  > "$work/image/manifest.json"

mkdir -p "$(dirname "$output")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/image" -cf "$output.partial" \
  manifest.json "$config_name" layer.tar
mv "$output.partial" "$output"
echo "build-base-image: $output ($(du -h "$output" | cut -f1), layer $diff_id)" >&2
