"""nbgrader's collect, taking from each submission in the exchange only what its student owns.

Collecting runs with the instructor's rights (root on many hubs) on folders the students
made. nbgrader's own collect follows links, only warns when a folder's owner is not the
student it names, and takes each student's newest folder; this one refuses a submission
folder made by another account in a student's name (without letting it displace that
student's own), and skips links and special files inside one, never following them.
``course.workspace`` sets it as nbgrader's ``ExchangeFactory.collect``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat

from nbgrader.exchange.default import ExchangeCollect
from nbgrader.utils import ignore_patterns


class OwnFilesCollect(ExchangeCollect):
    """nbgrader's collect, taking from each submission only what its student owns.

    A submission folder owned by an account other than the student it names (unless
    ``check_owner`` is off) or that is not a folder is refused, and cannot displace that
    student's own newest submission. Inside one, links and special files are skipped:
    running as the instructor, following them would copy what the student cannot read.
    """

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        why = self._refusal(path, record["username"])
        if why is not None:
            self.log.error("%s: %s; not collected.", record["filename"], why)
            record["username"] += "+refused"  # a group of its own: the student's own submission still counts
            record["refused"] = True
        return record

    def _refusal(self, path: str, student: str) -> str | None:
        status = os.lstat(path)
        if not stat.S_ISDIR(status.st_mode):
            return "is not a folder"
        if self.check_owner:
            try:
                owner = pwd.getpwuid(status.st_uid).pw_name
            except KeyError:
                owner = f"uid {status.st_uid}"
            if owner != student:
                return f"names {student} but belongs to {owner}"
        return None

    def copy_files(self):
        self.src_records = [record for record in self.src_records if not record.get("refused")]
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"{src} is larger than CourseDirectory.max_dir_size")
        nbgrader_ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                          max_file_size=self.coursedir.max_file_size, log=self.log)

        def ignore(folder, names):
            skipped = set(nbgrader_ignore(folder, names))
            for name in set(names) - skipped:
                mode = os.lstat(os.path.join(folder, name)).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    self.log.error("%s: a link or special file; not collected.", os.path.join(folder, name))
                    skipped.add(name)
            return skipped

        shutil.copytree(src, dest, symlinks=True, ignore=ignore, copy_function=self._copy_regular)
        for here, folders, files in os.walk(dest):  # anything swapped for a link meanwhile goes
            for name in folders + files:
                if os.path.islink(os.path.join(here, name)):
                    os.unlink(os.path.join(here, name))

    def _copy_regular(self, src, dest):
        try:
            handle = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            self.log.error("%s: %s; not collected.", src, error.strerror)
            return dest
        with open(handle, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                self.log.error("%s: not a regular file; not collected.", src)
                return dest
            with open(dest, "wb") as target:
                shutil.copyfileobj(source, target)
        return dest
