# fish completion for memray-transform(1).
#
# Installed into $(datadir)/fish/vendor_completions.d, which fish reads.
# The formats come from the Formats line of `memray-transform --version`,
# so that a new format is completed without a change here.

function __memray_transform_formats
    set -l cmd (commandline -opc)[1]
    command $cmd --version 2>/dev/null | string replace -rf '^Formats: ' '' | string split ' '
end

# The argument is a capture: memray names its files *.bin.
complete -c memray-transform -f -a '(__fish_complete_suffix .bin)'
complete -c memray-transform -s f -l format -x -a '(__memray_transform_formats)' -d 'Output format'
complete -c memray-transform -s o -l output -r -F -d 'Write the report to a file, once complete'
complete -c memray-transform -l leaks -d 'Report the allocations never freed'
complete -c memray-transform -l temporary-allocations -d 'Report temporary allocations'
complete -c memray-transform -l temporary-allocation-threshold -x -d 'Report allocations freed within N others'
complete -c memray-transform -l crlf -d 'End CSV lines with CR LF, as memray does'
complete -c memray-transform -l strict -d 'A damaged record stream is an error'
complete -c memray-transform -l info -d 'Describe the capture instead'
complete -c memray-transform -l progress -d 'Show progress on stderr'
complete -c memray-transform -l threads -x -d 'Threads: 1 decodes in the main thread'
complete -c memray-transform -l count -x -a 'bytes allocations' -d 'What -f folded weighs stacks by'
complete -c memray-transform -l split-threads -d 'One row per stack and thread'
complete -c memray-transform -l symfs -x -a '(__fish_complete_directories)' -d 'Read native binaries under DIR'
complete -c memray-transform -l thread -x -d 'Limit the report to a thread (id or name)'
complete -c memray-transform -l num-largest -x -d 'Length of the top lists of -f stats and summary'
complete -c memray-transform -s h -l help -d 'Show the help and exit'
complete -c memray-transform -s V -l version -d 'Show the version, libraries and formats'
