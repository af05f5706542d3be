# The runtime layer every job runs in: the tools job scripts expect, and a pinned dxpy (with its
# dx-* helpers) installed into the system python3 from a wheel cache the runner filled on the host.
# Build arguments: BASE (an image), APT_PACKAGES (space-separated), DXPY_VERSION.
# Files beside this one (runner.build._runtime.RECIPE_FILES): dx-dstat, the worker's resource logger.

ARG BASE
FROM ${BASE} AS os
ARG APT_PACKAGES
# Only what is missing is installed, so a base that already has everything (the runner's stand-ins
# do) builds without any network.
RUN set -eu; \
    missing=""; \
    for package in ${APT_PACKAGES}; do \
        dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
        echo "installing:$missing"; \
        export DEBIAN_FRONTEND=noninteractive; \
        apt-get update -q; \
        apt-get install -y -q --no-install-recommends $missing; \
        rm -rf /var/lib/apt/lists/*; \
    else \
        echo "all of ${APT_PACKAGES} already installed"; \
    fi

FROM os
ARG DXPY_VERSION
# Jobs may pip-install into the system interpreter too (execDepends), as they do on the platform.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY wheels/ /tmp/runner-wheels/
# As on a platform worker: `/usr/bin/dx-dstat N` (re)starts the resource logger `pcp-dstat`.
COPY dx-dstat /usr/bin/dx-dstat
# pip runs from its own wheel: the base needs no python3-pip, and the cache decides every version.
RUN set -eu; \
    chmod 0755 /usr/bin/dx-dstat; \
    dx-dstat --help >/dev/null; \
    pip_wheel=$(ls /tmp/runner-wheels/pip-*.whl | head -n 1); \
    python3 "$pip_wheel/pip" install --no-cache-dir --no-index --find-links /tmp/runner-wheels \
        pip "dxpy==${DXPY_VERSION}"; \
    rm -rf /tmp/runner-wheels; \
    python3 -c "import sys, dxpy; v = dxpy.TOOLKIT_VERSION; sys.exit(None if v.startswith('${DXPY_VERSION}') else 'dxpy is ' + v)"; \
    dx-jobutil-add-output --help >/dev/null; \
    dx-download-all-inputs --help >/dev/null; \
    dx-upload-all-outputs --help >/dev/null; \
    jq --version; \
    curl --version | head -n 1; \
    echo "runtime layer ready: $(python3 --version), dxpy ${DXPY_VERSION}"
